// English and Brazilian Portuguese. Every key exists in both languages (the
// compiler checks it: each Portuguese table is typed by its English one).
import { useRouteLoaderData } from 'react-router';
import { ai, aiBR } from './ai.js';
import { core, coreBR } from './core.js';
import { fleet, fleetBR } from './fleet.js';
import { infra, infraBR } from './infra.js';
import { reports, reportsBR } from './reports.js';
import { retention, retentionBR } from './retention.js';
import { schedules, schedulesBR } from './schedules.js';
import { notifications, notificationsBR } from './notifications.js';
import { settings, settingsBR } from './settings.js';
import { stacks, stacksBR } from './stacks.js';
import { triggers, triggersBR } from './triggers.js';
import { cooperative, cooperativeBR } from './cooperative.js';

export const LANGUAGES = ['en', 'pt-BR'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = { ...core, ...settings, ...infra, ...stacks, ...schedules, ...ai, ...triggers, ...notifications, ...reports, ...retention, ...fleet, ...cooperative };
export type MessageKey = keyof typeof en;
const ptBR: Record<MessageKey, string> = { ...coreBR, ...settingsBR, ...infraBR, ...stacksBR, ...schedulesBR, ...aiBR, ...triggersBR, ...notificationsBR, ...reportsBR, ...retentionBR, ...fleetBR, ...cooperativeBR };
export const messages: Record<Language, Record<MessageKey, string>> = { en, 'pt-BR': ptBR };

export function translate(language: Language, key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = messages[language][key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

export function pickLanguage(cookie: string | null | undefined, acceptLanguage: string | null): Language {
  if (cookie && (LANGUAGES as readonly string[]).includes(cookie)) return cookie as Language;
  return /(^|,)\s*pt\b/i.test(acceptLanguage ?? '') ? 'pt-BR' : 'en';
}

export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string;

/** The current language's translator, from the root loader's language. */
export function useT(): Translate {
  const root = useRouteLoaderData('root') as { language: Language } | undefined;
  const language = root?.language ?? 'en';
  return (key, values) => translate(language, key, values);
}

export function useLanguage(): Language {
  return (useRouteLoaderData('root') as { language: Language } | undefined)?.language ?? 'en';
}

/** Dates and durations in the user's language. */
export function formatDateTime(language: Language, iso: string | undefined): string {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
}
