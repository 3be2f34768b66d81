// `jarvis triggers create|list|show|rotate-secret|delete|deliveries`: inbound
// webhooks that start runbooks, through the API (RBAC and audit apply).
import { Option, type Command } from 'commander';
import type { TriggerDeliveryView, TriggerView } from '../../api/services/trigger-service.js';
import { JarvisProblem } from '../../manifest/errors.js';
import type { ApiClient } from '../api-client.js';
import type { CliContext } from '../context.js';
import { collect, outputOption } from '../options.js';
import { printData, type OutputFormat } from '../output.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `key=value` pairs as the inputs mapping; a value that reads as JSON (a number, true, an object) keeps its type. */
function parseInputs(pairs: string[]): Record<string, unknown> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new JarvisProblem(`"${pair}" is not an input mapping: use name=value, e.g. repo='\${{ body.repository.name }}'`, 'invalid');
      const text = pair.slice(at + 1);
      let value: unknown = text;
      try {
        value = /^[[{\d-]|^(true|false|null)$/.test(text) ? JSON.parse(text) : text;
      } catch {
        value = text;
      }
      return [pair.slice(0, at), value];
    }),
  );
}

/** A trigger by id, or by name within an environment. */
async function findTrigger(api: ApiClient, reference: string, environment: string | undefined): Promise<TriggerView> {
  if (UUID.test(reference)) return api.call<TriggerView>('GET', `/triggers/${reference}`);
  if (!environment) throw new JarvisProblem(`name trigger ${reference} by its id, or give its environment with -e`, 'invalid');
  const listed = await api.call<TriggerView[]>('GET', `/triggers?${new URLSearchParams({ environment })}`);
  const found = listed.find((trigger) => trigger.name === reference);
  if (!found) throw new JarvisProblem(`no trigger ${reference} in ${environment}`, 'not-found');
  return found;
}

function renderTrigger(trigger: TriggerView, baseUrl: string): string {
  return [
    `Trigger    ${trigger.name} (${trigger.id})`,
    `Kind       ${trigger.kind}    Auth ${trigger.auth}    ${trigger.enabled ? 'enabled' : 'disabled'}`,
    `Runs       ${trigger.runbook} in ${trigger.environment} as ${trigger.ownerEmail ?? '(no owner: every delivery is refused)'}`,
    `URL        ${baseUrl}${trigger.path}`,
    `Filter     ${trigger.filter ?? '-'}`,
    `Inputs     ${Object.keys(trigger.inputs).length > 0 ? JSON.stringify(trigger.inputs) : '-'}`,
    `Dedup key  ${trigger.dedupKey ?? (trigger.kind === 'alertmanager' ? 'alert fingerprint and startsAt' : 'sha256 of the body')}`,
    `Rate       ${trigger.rateLimitPerMinute} deliveries per minute`,
  ].join('\n');
}

function secretNotice(trigger: TriggerView, secret: string, baseUrl: string): string {
  const how =
    trigger.auth === 'bearer'
      ? `Send it as: Authorization: Bearer ${secret}`
      : 'Sign each body: X-Jarvis-Timestamp: <unix seconds>, X-Jarvis-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">; or point a GitHub/Gitea webhook at the URL with this secret.';
  return [renderTrigger(trigger, baseUrl), '', `Secret     ${secret}`, '           It is shown this once and cannot be read again (rotate it to get a new one).', how].join('\n');
}

export function registerTriggerCommands(program: Command, context: CliContext): void {
  const triggers = program.command('triggers').description('inbound webhooks (and the Alertmanager receiver) that start runbooks (through the API)');

  triggers
    .command('create')
    .description('create a trigger that starts a runbook as you; prints its URL and its secret, once')
    .argument('<name>', 'a name: letters, digits, ".", "_" and "-"')
    .requiredOption('-r, --runbook <runbook>', 'the runbook it starts')
    .requiredOption('-e, --environment <environment>', 'the environment runs start in')
    .addOption(new Option('--kind <kind>', 'webhook or alertmanager').choices(['webhook', 'alertmanager']).default('webhook'))
    .addOption(new Option('--auth <auth>', 'hmac or bearer (alertmanager: bearer)').choices(['hmac', 'bearer']))
    .option('--filter <expression>', 'start only when this is true, e.g. "body.action == \'published\'"')
    .option('-i, --input <name=value>', 'a runbook input, e.g. repo=${{ body.repository.name }} (repeatable)', collect, [])
    .option('--dedup-key <template>', 'names a delivery, e.g. ${{ body.id }} (default: the sha256 of the body)')
    .option('--rate-limit <perMinute>', 'deliveries per minute', (value) => Number.parseInt(value, 10))
    .option('--disabled', 'create it disabled')
    .addOption(outputOption())
    .action(
      async (
        name: string,
        options: {
          runbook: string;
          environment: string;
          kind: string;
          auth?: string;
          filter?: string;
          input: string[];
          dedupKey?: string;
          rateLimit?: number;
          disabled?: boolean;
          output: OutputFormat;
        },
      ) => {
        const api = context.api();
        const created = await api.call<{ trigger: TriggerView; secret: string }>('POST', '/triggers', {
          name,
          runbook: options.runbook,
          environment: options.environment,
          kind: options.kind,
          ...(options.auth ? { auth: options.auth } : {}),
          ...(options.filter ? { filter: options.filter } : {}),
          inputs: parseInputs(options.input),
          ...(options.dedupKey ? { dedupKey: options.dedupKey } : {}),
          ...(options.rateLimit !== undefined ? { rateLimitPerMinute: options.rateLimit } : {}),
          ...(options.disabled ? { enabled: false } : {}),
        });
        printData(options.output, { ...created, url: `${api.baseUrl}${created.trigger.path}` }, () => secretNotice(created.trigger, created.secret, api.baseUrl));
      },
    );

  triggers
    .command('list')
    .description('triggers of an environment (or of every environment you may read)')
    .option('-e, --environment <environment>', 'only this environment')
    .addOption(outputOption())
    .action(async (options: { environment?: string; output: OutputFormat }) => {
      const query = options.environment ? `?${new URLSearchParams({ environment: options.environment })}` : '';
      const listed = await context.api().call<TriggerView[]>('GET', `/triggers${query}`);
      printData(options.output, listed, [
        { header: 'name', value: (trigger) => trigger.name },
        { header: 'env', value: (trigger) => trigger.environment },
        { header: 'kind', value: (trigger) => trigger.kind },
        { header: 'runbook', value: (trigger) => trigger.runbook },
        { header: 'owner', value: (trigger) => trigger.ownerEmail },
        { header: 'enabled', value: (trigger) => trigger.enabled },
        { header: 'id', value: (trigger) => trigger.id },
      ]);
    });

  triggers
    .command('show')
    .description('one trigger (never its secret)')
    .argument('<trigger>', 'its id, or its name with -e')
    .option('-e, --environment <environment>', 'the environment, when naming the trigger by name')
    .addOption(outputOption())
    .action(async (reference: string, options: { environment?: string; output: OutputFormat }) => {
      const api = context.api();
      const trigger = await findTrigger(api, reference, options.environment);
      printData(options.output, trigger, (entry) => renderTrigger(entry, api.baseUrl));
    });

  triggers
    .command('rotate-secret')
    .description('replace the secret (the old one stops working at once); prints the new one, once')
    .argument('<trigger>', 'its id, or its name with -e')
    .option('-e, --environment <environment>', 'the environment, when naming the trigger by name')
    .addOption(outputOption())
    .action(async (reference: string, options: { environment?: string; output: OutputFormat }) => {
      const api = context.api();
      const trigger = await findTrigger(api, reference, options.environment);
      const rotated = await api.call<{ trigger: TriggerView; secret: string }>('POST', `/triggers/${trigger.id}/rotate-secret`);
      printData(options.output, rotated, () => secretNotice(rotated.trigger, rotated.secret, api.baseUrl));
    });

  triggers
    .command('delete')
    .description('delete a trigger and its delivery log')
    .argument('<trigger>', 'its id, or its name with -e')
    .option('-e, --environment <environment>', 'the environment, when naming the trigger by name')
    .action(async (reference: string, options: { environment?: string }) => {
      const api = context.api();
      const trigger = await findTrigger(api, reference, options.environment);
      await api.call('DELETE', `/triggers/${trigger.id}`);
      console.log(`Deleted trigger ${trigger.name} (${trigger.id}).`);
    });

  triggers
    .command('deliveries')
    .description('what the latest deliveries came to, newest first')
    .argument('<trigger>', 'its id, or its name with -e')
    .option('-e, --environment <environment>', 'the environment, when naming the trigger by name')
    .option('--limit <n>', 'how many (at most 500)', (value) => Number.parseInt(value, 10), 50)
    .addOption(outputOption())
    .action(async (reference: string, options: { environment?: string; limit: number; output: OutputFormat }) => {
      const api = context.api();
      const trigger = await findTrigger(api, reference, options.environment);
      const listed = await api.call<TriggerDeliveryView[]>('GET', `/triggers/${trigger.id}/deliveries?limit=${options.limit}`);
      printData(options.output, listed, [
        { header: 'received', value: (delivery) => delivery.receivedAt },
        { header: 'outcome', value: (delivery) => delivery.outcome },
        { header: 'run', value: (delivery) => delivery.runId },
        { header: 'alert', value: (delivery) => delivery.alertFingerprint },
        { header: 'bytes', value: (delivery) => delivery.bodyBytes },
        { header: 'reason', value: (delivery) => delivery.reason },
      ]);
    });
}
