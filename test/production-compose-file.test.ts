// The production shape (docker-compose.yml) cannot be started here (no image
// can be pulled), so it is checked: Compose renders it, refuses to without its
// secrets, and every service has a health check and what it needs to run.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../config/env.js';

const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.yml');
const SECRETS = { JARVIS_DB_PASSWORD: 'db-password', TEMPORAL_DB_PASSWORD: 'temporal-password', JARVIS_SECRET_KEY: 'c2VjcmV0LWtleS1mb3ItdGhlLWNvbXBvc2UtdGVzdC0xMjM0', JARVIS_HOST: 'jarvis.example.org', ACME_EMAIL: 'ops@example.org', JARVIS_TLS_DIR: '/etc/jarvis-tls' };

function compose(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in SECRETS)));
  return spawnSync('docker-compose', ['-f', COMPOSE_FILE, 'config'], { env: { ...clean, ...env }, encoding: 'utf8' });
}

interface Service {
  environment?: Record<string, string>;
  labels?: Record<string, string>;
  user?: string;
  cap_add?: string[];
  healthcheck?: { test: unknown };
  image?: string;
}

describe('the production compose file (docker-compose.yml)', () => {
  it('renders with its secrets set and refuses without them, naming what to set', () => {
    const rendered = compose(SECRETS);
    expect(rendered.error).toBeUndefined();
    expect(rendered.status).toBe(0);
    const services = (parse(rendered.stdout) as { services: Record<string, Service> }).services;
    expect(Object.keys(services).sort()).toEqual(['api', 'postgres', 'temporal', 'temporal-postgres', 'temporal-ui', 'traefik', 'web', 'worker']);
    for (const [name, service] of Object.entries(services)) expect({ name, healthcheck: Boolean(service.healthcheck) }).toEqual({ name, healthcheck: true });
    for (const name of ['api', 'worker']) {
      const environment = services[name]!.environment!;
      for (const variable of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'JARVIS_SECRET_KEY', 'JARVIS_DATA_DIR']) {
        expect({ service: name, variable, set: Boolean(environment[variable]) }).toEqual({ service: name, variable, set: true });
      }
      expect(environment.JARVIS_SECRET_KEY).toBe(SECRETS.JARVIS_SECRET_KEY);
    }
    // The web app calls the API inside the network and tells browsers the public address (live logs).
    expect(services.web!.environment).toMatchObject({ JARVIS_API_URL: 'http://api:3001', JARVIS_PUBLIC_API_URL: `https://${SECRETS.JARVIS_HOST}/api`, JARVIS_SECRET_KEY: SECRETS.JARVIS_SECRET_KEY });
    for (const missing of Object.keys(SECRETS)) {
      const { [missing as keyof typeof SECRETS]: _left, ...rest } = SECRETS;
      const refused = compose(rest);
      expect({ missing, status: refused.status }).not.toEqual({ missing, status: 0 });
      expect(refused.stderr).toContain(`set ${missing}`);
    }
  });

  it('reaches Temporal over mutual TLS only and puts its web UI behind Jarvis sign-in, read-only', () => {
    const services = (parse(compose(SECRETS).stdout) as { services: Record<string, Service> }).services;
    expect(services.temporal!.environment).toMatchObject({ TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true', TEMPORAL_TLS_CLIENT1_CA_CERT: '/etc/jarvis/tls/ca.crt' });
    for (const name of ['api', 'worker']) {
      expect(services[name]!.environment).toMatchObject({ TEMPORAL_TLS_CA_FILE: '/etc/jarvis/tls/ca.crt', TEMPORAL_TLS_CERT_FILE: '/etc/jarvis/tls/client.crt', TEMPORAL_TLS_KEY_FILE: '/etc/jarvis/tls/client.key' });
    }
    const ui = services['temporal-ui']!;
    expect(ui.environment).toMatchObject({ TEMPORAL_DISABLE_WRITE_ACTIONS: 'true', TEMPORAL_CODEC_INCLUDE_CREDENTIALS: 'true', TEMPORAL_TLS_CERT: '/etc/jarvis/tls/client.crt' });
    expect(ui.labels).toMatchObject({ 'traefik.http.middlewares.temporal-ui-auth.forwardauth.address': 'http://web:3000/temporal-ui/auth', 'traefik.http.routers.temporal-ui.middlewares': 'temporal-ui-auth' });
    // The worker is root only to switch every action process to jarvis-action.
    expect(services.worker!.environment).toMatchObject({ JARVIS_ACTION_USER: 'jarvis-action' });
    expect(services.worker!.cap_add).toContain('SETUID');
  });

  it('builds the image the api and worker services run', () => {
    const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/npm run db:generate/);
    // Supply chain: the lock file exactly, no install scripts but the allowed ones, a base image pinned by digest.
    expect(dockerfile).toMatch(/npm ci --ignore-scripts/);
    expect(dockerfile).not.toMatch(/npm install --no-audit/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim@sha256:[0-9a-f]{64}$/m);
    for (const from of dockerfile.match(/^FROM .*$/gm) ?? []) expect(from).toMatch(/^FROM \$\{NODE_IMAGE\}/);
    const services = (parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;
    expect(services.api!.image).toBe('jarvis:latest');
    expect(services.worker!.image).toBe('jarvis:latest');
  });
});
