// A list that renders only the rows in view (fixed row height), so a run with
// thousands of steps or tens of thousands of log lines stays responsive.
import { useEffect, useRef, useState } from 'react';

interface VirtualListProps<T> {
  items: T[];
  rowHeight: number;
  /** The list grows with its items up to this height, then scrolls. */
  maxHeight: number;
  renderRow: (item: T, index: number) => React.ReactNode;
  /** Keep the view at the bottom as items arrive. */
  follow?: boolean;
  label: string;
  className?: string;
  /** Bring this row into view (a third from the top) whenever the index changes. */
  scrollToIndex?: number | undefined;
}

const OVERSCAN = 10;

export function VirtualList<T>({ items, rowHeight, maxHeight, renderRow, follow, label, className, scrollToIndex }: VirtualListProps<T>) {
  const height = Math.min(items.length * rowHeight + 2, maxHeight);
  const container = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  useEffect(() => {
    if (follow && container.current) container.current.scrollTop = items.length * rowHeight;
  }, [follow, items.length, rowHeight]);
  useEffect(() => {
    if (scrollToIndex === undefined || scrollToIndex < 0 || !container.current) return;
    const top = Math.max(0, scrollToIndex * rowHeight - Math.floor(maxHeight / 3));
    container.current.scrollTop = top;
    setScrollTop(top);
  }, [scrollToIndex, rowHeight, maxHeight]);
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const rows: React.ReactNode[] = [];
  for (let index = first; index < last; index += 1) {
    rows.push(
      <div key={index} role="listitem" className="virtual-row" style={{ position: 'absolute', top: index * rowHeight, height: rowHeight, left: 0, right: 0 }}>
        {renderRow(items[index]!, index)}
      </div>,
    );
  }
  return (
    <div
      ref={container}
      className={`virtual-list ${className ?? ''}`}
      style={{ height, overflowY: 'auto', position: 'relative' }}
      onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      role="list"
      aria-label={label}
      tabIndex={0}
    >
      <div style={{ height: items.length * rowHeight, position: 'relative' }}>{rows}</div>
    </div>
  );
}
