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
const SECRETS = { JARVIS_DB_PASSWORD: 'db-password', TEMPORAL_DB_PASSWORD: 'temporal-password', JARVIS_SECRET_KEY: 'c2VjcmV0LWtleS1mb3ItdGhlLWNvbXBvc2UtdGVzdC0xMjM0', JARVIS_HOST: 'jarvis.example.org', ACME_EMAIL: 'ops@example.org' };

function compose(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !(name in SECRETS)));
  return spawnSync('docker-compose', ['-f', COMPOSE_FILE, 'config'], { env: { ...clean, ...env }, encoding: 'utf8' });
}

interface Service {
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  image?: string;
}

describe('docker-compose.yml', () => {
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

  it('builds the image the api and worker services run', () => {
    const dockerfile = readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/npm run db:generate/);
    const services = (parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;
    expect(services.api!.image).toBe('jarvis:latest');
    expect(services.worker!.image).toBe('jarvis:latest');
  });
});
