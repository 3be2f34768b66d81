// `jarvis runbooks list|show|validate`: the catalog, read from the runbooks directory.
import type { Command } from 'commander';
import { JarvisProblem } from '../../manifest/errors.js';
import { loadRunbooks, type CliContext } from '../context.js';
import { compileFile } from '../manifest-file.js';
import { outputOption } from '../options.js';
import { printData, type OutputFormat } from '../output.js';

export function registerRunbookCommands(program: Command, { env }: CliContext): void {
  const runbooks = program.command('runbooks').description('the runbook catalog');
  runbooks
    .command('list')
    .description('list the runbooks in the catalog')
    .option('--category <category>', 'only this category')
    .option('--tag <tag>', 'only runbooks with this tag')
    .addOption(outputOption())
    .action(async (options: { category?: string; tag?: string; output: OutputFormat }) => {
      const catalog = await loadRunbooks(env);
      const entries = catalog.list().filter((entry) => (!options.category || entry.category === options.category) && (!options.tag || entry.tags.includes(options.tag)));
      printData(options.output, entries, [
        { header: 'name', value: (entry) => entry.name },
        { header: 'title', value: (entry) => entry.title },
        { header: 'category', value: (entry) => entry.category },
        { header: 'tags', value: (entry) => entry.tags },
        { header: 'valid', value: (entry) => (entry.errors.length === 0 ? 'yes' : `no (${entry.errors.length} errors)`) },
      ]);
    });

  runbooks
    .command('show')
    .description('show a runbook: its inputs and steps')
    .argument('<name>')
    .addOption(outputOption())
    .action(async (name: string, options: { output: OutputFormat }) => {
      const catalog = await loadRunbooks(env);
      const result = catalog.compile(name);
      if (!result) throw new JarvisProblem(`no runbook named "${name}" in ${env.runbooksDir}`, 'not-found');
      if (!result.ok) throw new JarvisProblem(`runbook "${name}" is invalid:`, 'invalid', result.errors);
      const runbook = result.compiled.runbook;
      printData(options.output, runbook, (value) =>
        [
          `${value.title} (${value.name}, version ${value.version})`,
          value.description,
          `Category: ${value.category}   Tags: ${value.tags.join(', ')}   Environments: ${value.environments.join(', ')}   Role: ${value.requiredRole}`,
          value.concurrencyKey ? `One run at a time per ${value.concurrencyKey}` : '',
          '',
          'Inputs:',
          ...Object.entries((value.inputs.properties ?? {}) as Record<string, { type?: string; description?: string; default?: unknown }>).map(
            ([input, schema]) =>
              `  ${input} (${schema.type ?? 'any'}${((value.inputs.required as string[] | undefined) ?? []).includes(input) ? ', required' : ''})${schema.default !== undefined ? ` default ${JSON.stringify(schema.default)}` : ''}${schema.description ? `: ${schema.description}` : ''}`,
          ),
          '',
          'Steps:',
          ...value.steps.map((step) => `  ${step.id}: ${step.kind === 'action' ? step.action : step.kind}${step.title ? ` (${step.title})` : ''}${step.when ? ` when ${step.when}` : ''}`),
        ]
          .filter((line, index, all) => line !== '' || all[index - 1] !== '')
          .join('\n'),
      );
    });

  runbooks
    .command('validate')
    .description('check a manifest file and list every mistake with its path')
    .argument('<file>')
    .action(async (file: string) => {
      const catalog = await loadRunbooks(env);
      const result = compileFile(catalog, file);
      console.log(`${file}: valid runbook "${result.runbook.name}" (version ${result.runbook.version}, ${result.runbook.steps.length} steps)`);
    });
}
