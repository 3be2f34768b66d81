// The words of a notification in the recipient's language (en, pt-BR):
// a subject, plain text and simple HTML, with a link to the run or approval
// page. Secrets never reach here: events carry no inputs, and log lines and
// errors are redacted before they are stored.
import type { NotificationMessage } from '../activities/notify/channel.js';
import type { NotificationKind, NotificationPayload } from './events.js';

export const LOCALES = ['en', 'pt-BR'] as const;
export type Locale = (typeof LOCALES)[number];

export function localeOf(value: string | null | undefined): Locale {
  return value === 'pt-BR' ? 'pt-BR' : 'en';
}

export interface RenderInput {
  kind: NotificationKind;
  environment: string;
  payload: NotificationPayload;
  /** The web app as people reach it (JARVIS_PUBLIC_WEB_URL). */
  publicWebUrl: string;
  /** The last lines the failing step logged, redacted. */
  logLines?: string[];
  /** A test message sent from a rule's "send a test". */
  test?: boolean;
}

type Words = Record<NotificationKind, (p: NotificationPayload, environment: string) => string> & { failingStep: string; lastLines: string; open: string; error: string; test: string };

const run = (p: NotificationPayload) => `${p.runbook ?? 'run'} (${p.runId ?? '?'})`;
const stepName = (p: NotificationPayload) => p.step?.title ?? p.step?.id ?? '?';

const WORDS: Record<Locale, Words> = {
  en: {
    'run.started': (p, env) => `Run started: ${run(p)} in ${env} by ${p.startedBy ?? '?'}`,
    'run.succeeded': (p, env) => `Run succeeded: ${run(p)} in ${env}`,
    'run.failed': (p, env) => `Run failed: ${run(p)} in ${env}`,
    'run.cancelled': (p, env) => `Run cancelled: ${run(p)} in ${env}`,
    'run.rejected': (p, env) => `Run rejected: ${run(p)} in ${env}`,
    'approval.waiting': (p, env) => `Approval needed: step "${stepName(p)}" of ${run(p)} in ${env} waits for a decision (role ${p.step?.role ?? 'approver'})`,
    'approval.deadline-near': (p, env) => `Approval deadline near: step "${stepName(p)}" of ${run(p)} in ${env} expires at ${p.step?.deadline ?? '?'}`,
    'approval.decided': (p, env) => `Approval ${p.decision?.outcome === 'rejected' ? 'rejected' : 'given'}: step "${stepName(p)}" of ${run(p)} in ${env} by ${(p.decision?.by ?? []).join(', ')}`,
    'node.unreachable': (p, env) => `Node unreachable: ${p.node?.name ?? '?'} in ${env}`,
    'node.back': (p, env) => `Node back online: ${p.node?.name ?? '?'} in ${env}`,
    'schedule.fire-refused': (p, env) => `Schedule fire refused: ${p.subject ?? '?'} in ${env}`,
    'trigger.refused': (p, env) => `Trigger refused: ${p.subject ?? '?'} in ${env}`,
    'alert.resolved': (p, env) => `Alert resolved: ${p.subject ?? '?'} in ${env}`,
    failingStep: 'Failing step',
    lastLines: 'Last lines',
    open: 'Open',
    error: 'Error',
    test: '[test] ',
  },
  'pt-BR': {
    'run.started': (p, env) => `Execução iniciada: ${run(p)} em ${env} por ${p.startedBy ?? '?'}`,
    'run.succeeded': (p, env) => `Execução concluída com sucesso: ${run(p)} em ${env}`,
    'run.failed': (p, env) => `Execução falhou: ${run(p)} em ${env}`,
    'run.cancelled': (p, env) => `Execução cancelada: ${run(p)} em ${env}`,
    'run.rejected': (p, env) => `Execução rejeitada: ${run(p)} em ${env}`,
    'approval.waiting': (p, env) => `Aprovação necessária: a etapa "${stepName(p)}" de ${run(p)} em ${env} aguarda uma decisão (papel ${p.step?.role ?? 'approver'})`,
    'approval.deadline-near': (p, env) => `Prazo de aprovação próximo: a etapa "${stepName(p)}" de ${run(p)} em ${env} expira em ${p.step?.deadline ?? '?'}`,
    'approval.decided': (p, env) =>
      `Aprovação ${p.decision?.outcome === 'rejected' ? 'rejeitada' : 'concedida'}: etapa "${stepName(p)}" de ${run(p)} em ${env} por ${(p.decision?.by ?? []).join(', ')}`,
    'node.unreachable': (p, env) => `Nó inacessível: ${p.node?.name ?? '?'} em ${env}`,
    'node.back': (p, env) => `Nó de volta: ${p.node?.name ?? '?'} em ${env}`,
    'schedule.fire-refused': (p, env) => `Disparo de agendamento recusado: ${p.subject ?? '?'} em ${env}`,
    'trigger.refused': (p, env) => `Gatilho recusado: ${p.subject ?? '?'} em ${env}`,
    'alert.resolved': (p, env) => `Alerta resolvido: ${p.subject ?? '?'} em ${env}`,
    failingStep: 'Etapa com falha',
    lastLines: 'Últimas linhas',
    open: 'Abrir',
    error: 'Erro',
    test: '[teste] ',
  },
};

const SEVERITY: Record<NotificationKind, NotificationMessage['severity']> = {
  'run.started': 'info',
  'run.succeeded': 'info',
  'run.failed': 'error',
  'run.cancelled': 'warning',
  'run.rejected': 'warning',
  'approval.waiting': 'warning',
  'approval.deadline-near': 'warning',
  'approval.decided': 'info',
  'node.unreachable': 'error',
  'node.back': 'info',
  'schedule.fire-refused': 'warning',
  'trigger.refused': 'warning',
  'alert.resolved': 'info',
};

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The page the event is about: the run (approvals are decided on it), or the node. */
export function linkOf(input: Pick<RenderInput, 'payload' | 'publicWebUrl'>): string | undefined {
  const base = input.publicWebUrl.replace(/\/$/, '');
  if (input.payload.runId) return `${base}/runs/${encodeURIComponent(input.payload.runId)}`;
  if (input.payload.node?.id) return `${base}/nodes/${encodeURIComponent(input.payload.node.id)}`;
  return undefined;
}

export function renderNotification(input: RenderInput, locale: Locale): NotificationMessage {
  const words = WORDS[locale];
  const subject = `${input.test ? words.test : ''}${words[input.kind](input.payload, input.environment)}`;
  const link = linkOf(input);
  const sections: Array<{ title?: string; text: string; pre?: boolean }> = [];
  const failed = input.payload.failedStep;
  if (failed) sections.push({ title: words.failingStep, text: `${failed.title ? `${failed.title} (${failed.id})` : failed.id}${failed.error ? `: ${failed.error}` : ''}` });
  else if (input.payload.error) sections.push({ title: words.error, text: input.payload.error });
  if (input.payload.reason && !failed) sections.push({ title: words.error, text: input.payload.reason });
  if (input.payload.node?.reason) sections.push({ text: input.payload.node.reason });
  if (input.logLines && input.logLines.length > 0) sections.push({ title: words.lastLines, text: input.logLines.join('\n'), pre: true });
  if (link) sections.push({ title: words.open, text: link });
  const text = [subject, ...sections.map((section) => (section.title ? `${section.title}:${section.pre ? '\n' : ' '}${section.text}` : section.text))].join('\n\n');
  const html = [
    `<p><strong>${escapeHtml(subject)}</strong></p>`,
    ...sections.map((section) => {
      const body =
        section.title === words.open ? `<a href="${escapeHtml(section.text)}">${escapeHtml(section.text)}</a>` : section.pre ? `<pre>${escapeHtml(section.text)}</pre>` : escapeHtml(section.text);
      return `<p>${section.title ? `<strong>${escapeHtml(section.title)}:</strong> ` : ''}${body}</p>`;
    }),
  ].join('\n');
  return { kind: input.kind, subject, text, html, ...(link ? { link } : {}), severity: SEVERITY[input.kind] };
}
