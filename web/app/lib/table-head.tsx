// The header row every table of the app has: one column header per name, and
// optionally a last column for row actions, named for screen readers only.
export function TableHead({ columns, actions }: { columns: string[]; actions?: string }) {
  return (
    <thead>
      <tr>
        {columns.map((column, index) => (
          <th key={index} scope="col">
            {column}
          </th>
        ))}
        {actions !== undefined ? (
          <th scope="col">
            <span className="sr-only">{actions}</span>
          </th>
        ) : null}
      </tr>
    </thead>
  );
}
