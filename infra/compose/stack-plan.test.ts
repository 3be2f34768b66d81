// The Compose reader on its own: what docker stack deploy accepts, refuses and
// warns about, and the Engine specs it would send (the corpus test compares
// those with Docker's own on a real Swarm).
import { describe, expect, it } from 'vitest';
import { describePlan, planStack, type ComposeSource, type StackPlan } from './stack-plan.js';
import { referencedFiles } from './stack-input.js';

function plan(text: string, extra: Partial<ComposeSource> = {}): StackPlan {
  const result = planStack({ text, stack: 'shop', ...extra });
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return result.plan;
}

function refusal(text: string, extra: Partial<ComposeSource> = {}) {
  const result = planStack({ text, stack: 'shop', ...extra });
  if (result.ok) throw new Error('accepted a file that should be refused');
  return result.errors;
}

const container = (planned: StackPlan, service: string) => {
  const found = planned.services.find((entry) => entry.key === service);
  if (!found) throw new Error(`no service ${service}`);
  return (found.spec.TaskTemplate as { ContainerSpec: Record<string, unknown> }).ContainerSpec;
};
const spec = (planned: StackPlan, service: string) => planned.services.find((entry) => entry.key === service)!.spec as Record<string, unknown> & { TaskTemplate: Record<string, unknown> };

describe('Compose files as docker stack deploy reads them', () => {
  it('interpolates ${VAR}, defaults and $$, from variables over the env file, and refuses a required variable that is missing with its path and line', () => {
    const text = `
services:
  web:
    image: "nginx:\${TAG:-1.27-alpine}"
    environment:
      GREETING: "hello \${WHO}"
      LITERAL: "costs $$5"
      EMPTY_DEFAULT: "\${UNSET-fallback}"
    deploy:
      replicas: \${REPLICAS}
`;
    const planned = plan(text, { variables: { WHO: 'ops', REPLICAS: '3' }, envFile: 'WHO=file\nTAG=1.26\n# a comment\n' });
    expect(container(planned, 'web').Image).toBe('nginx:1.26');
    expect(container(planned, 'web').Env).toEqual(['EMPTY_DEFAULT=fallback', 'GREETING=hello ops', 'LITERAL=costs $5']);
    expect(spec(planned, 'web').Mode).toEqual({ Replicated: { Replicas: 3 } });

    const errors = refusal(`
services:
  web:
    image: "nginx:\${TAG:?set TAG to the release to deploy}"
`);
    expect(errors).toEqual([{ path: 'services.web.image', message: expect.stringMatching(/required variable TAG is missing a value: set TAG to the release to deploy \(line 4, column 12\)/) }]);
  });

  it('reads anchors, merge keys and x- extension fields as YAML does', () => {
    const planned = plan(`
version: "3.8"
x-defaults: &defaults
  image: redis:7-alpine
  deploy:
    resources:
      limits: { cpus: "0.50", memory: 256M }
  logging:
    driver: json-file
    options: { max-size: 10m, max-file: 3 }
services:
  cache:
    <<: *defaults
    x-team: platform
  queue:
    <<: *defaults
    image: redis:7.2
`);
    expect(container(planned, 'cache').Image).toBe('redis:7-alpine');
    expect(container(planned, 'queue').Image).toBe('redis:7.2');
    expect(spec(planned, 'queue').TaskTemplate.Resources).toEqual({ Limits: { NanoCPUs: 500_000_000, MemoryBytes: 256 * 1024 * 1024 } });
    expect(spec(planned, 'cache').TaskTemplate.LogDriver).toEqual({ Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '3' } });
    expect(planned.warnings).toEqual([]);
    // A declared version limits the file to what that version knows, as Docker does.
    expect(refusal('version: "3.7"\nservices:\n  web:\n    image: nginx\n    deploy: { placement: { max_replicas_per_node: 1 } }\n')).toEqual([
      { path: 'services.web.deploy.placement.max_replicas_per_node', message: expect.stringMatching(/needs Compose version 3\.8 or later/) },
    ]);
    expect(refusal('version: "2.4"\nservices:\n  web:\n    image: nginx\n')).toEqual([{ path: 'version', message: expect.stringMatching(/unsupported Compose file version "2\.4"/) }]);
  });

  it('turns the short forms into Engine specs: environment lists and env files, shell commands, ports, volumes, healthchecks', () => {
    const planned = plan(
      `
services:
  api:
    image: registry.example.org:5000/shop/api:2.1
    entrypoint: /docker-entrypoint.sh
    command: gunicorn --bind "0.0.0.0:8000" 'app:create()'
    env_file: [./api.env]
    environment: [DEBUG=0, FROM_SHELL, KEPT_EMPTY]
    ports: ["127.0.0.1:8080:8000", "9090-9091:9090-9091/udp", { target: 53, published: 53, protocol: udp, mode: host }]
    volumes:
      - data:/var/lib/api:nocopy
      - ./conf:/etc/api:ro
      - /srv/shared:/shared:rshared
      - { type: tmpfs, target: /tmp, tmpfs: { size: 67108864 } }
      - /anonymous
    healthcheck: { test: curl -f http://localhost:8000/health, interval: 30s, timeout: 5s, start_period: 1m30s, retries: 3 }
volumes:
  data: { driver: local, driver_opts: { type: nfs, o: "addr=10.0.0.2" }, labels: [backup=daily] }
`,
      { variables: { FROM_SHELL: 'from variables' }, files: { 'api.env': 'DATABASE_HOST=db\nDEBUG=1\n' }, workingDir: '/srv/stacks/shop' },
    );
    const api = container(planned, 'api');
    expect(api.Command).toEqual(['/docker-entrypoint.sh']);
    expect(api.Args).toEqual(['gunicorn', '--bind', '0.0.0.0:8000', 'app:create()']);
    expect(api.Env).toEqual(['DATABASE_HOST=db', 'DEBUG=0', 'FROM_SHELL=from variables', 'KEPT_EMPTY']);
    expect(spec(planned, 'api').EndpointSpec).toEqual({
      Ports: [
        { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' },
        { Protocol: 'tcp', TargetPort: 8000, PublishedPort: 8080, PublishMode: 'ingress' },
        { Protocol: 'udp', TargetPort: 9090, PublishedPort: 9090, PublishMode: 'ingress' },
        { Protocol: 'udp', TargetPort: 9091, PublishedPort: 9091, PublishMode: 'ingress' },
      ],
    });
    expect(planned.warnings).toContainEqual({ path: 'services.api.ports', message: expect.stringMatching(/127\.0\.0\.1 is ignored/) });
    expect(api.Mounts).toEqual([
      {
        Type: 'volume',
        Target: '/var/lib/api',
        Source: 'shop_data',
        VolumeOptions: { NoCopy: true, Labels: { backup: 'daily', 'com.docker.stack.namespace': 'shop' }, DriverConfig: { Name: 'local', Options: { type: 'nfs', o: 'addr=10.0.0.2' } } },
      },
      { Type: 'bind', Target: '/etc/api', Source: '/srv/stacks/shop/conf', ReadOnly: true },
      { Type: 'bind', Target: '/shared', Source: '/srv/shared', BindOptions: { Propagation: 'rshared' } },
      { Type: 'tmpfs', Target: '/tmp', TmpfsOptions: { SizeBytes: 67_108_864 } },
      { Type: 'volume', Target: '/anonymous' },
    ]);
    expect(api.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'curl -f http://localhost:8000/health'], Interval: 30e9, Timeout: 5e9, StartPeriod: 90e9, Retries: 3 });
  });

  it('attaches several networks with aliases, names external ones as they are, and plans only the networks services use', () => {
    const planned = plan(`
services:
  proxy:
    image: traefik:v3.1
    networks: { public: { aliases: [edge] }, default: null }
    deploy:
      mode: global
      placement: { constraints: [node.role == manager], preferences: [{ spread: node.labels.zone }] }
      labels: [traefik.enable=true, "traefik.http.routers.api.rule=Host(\`api.example.org\`)"]
  worker:
    image: busybox:1.36
    networks: [backend]
networks:
  public: { external: true, name: traefik-public }
  backend: { driver: overlay, attachable: true }
  unused: {}
`);
    expect(spec(planned, 'proxy').TaskTemplate.Networks).toEqual([
      { Target: 'shop_default', Aliases: ['proxy'] },
      { Target: 'traefik-public', Aliases: ['edge', 'proxy'] },
    ]);
    expect(spec(planned, 'proxy').Mode).toEqual({ Global: {} });
    expect(spec(planned, 'proxy').Labels).toMatchObject({ 'traefik.http.routers.api.rule': 'Host(`api.example.org`)', 'com.docker.stack.namespace': 'shop', 'com.docker.stack.image': 'traefik:v3.1' });
    expect(spec(planned, 'proxy').TaskTemplate.Placement).toEqual({ Constraints: ['node.role == manager'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] });
    expect(planned.networks.map((network) => [network.name, network.external, network.create?.Attachable])).toEqual([
      ['shop_backend', false, true],
      ['shop_default', false, undefined],
      ['traefik-public', true, undefined],
    ]);
  });

  it('creates secrets and configs from files under names that change with their content, and never shows their data', () => {
    const text = `
services:
  db:
    image: postgres:16
    secrets: [db_password, { source: tls_key, target: /etc/ssl/private/db.key, uid: "999", gid: "999", mode: 0400 }]
    configs: [{ source: pg_conf, target: /etc/postgresql/postgresql.conf }]
secrets:
  db_password: { file: ./secrets/db_password.txt }
  tls_key: { external: true, name: shop-tls-key }
configs:
  pg_conf: { file: ./postgresql.conf }
`;
    const files = { 'secrets/db_password.txt': 'not-a-real-password', 'postgresql.conf': 'max_connections = 50\n' };
    const first = plan(text, { files });
    const db = container(first, 'db');
    const secretName = first.secrets.find((secret) => secret.key === 'db_password')!.name;
    expect(secretName).toMatch(/^shop_db_password_[0-9a-f]{10}$/);
    // Sorted by name, as Docker sorts them (so a redeploy with reordered entries changes nothing).
    expect(db.Secrets).toEqual([
      { File: { Name: '/etc/ssl/private/db.key', UID: '999', GID: '999', Mode: 0o400 }, SecretName: 'shop-tls-key' },
      { File: { Name: 'db_password', UID: '0', GID: '0', Mode: 0o444 }, SecretName: secretName },
    ]);
    expect(db.Configs).toEqual([{ File: { Name: '/etc/postgresql/postgresql.conf', UID: '0', GID: '0', Mode: 0o444 }, ConfigName: expect.stringMatching(/^shop_pg_conf_/) }]);
    expect(JSON.stringify(describePlan(first))).not.toContain(Buffer.from('not-a-real-password').toString('base64'));
    const changed = plan(text, { files: { ...files, 'secrets/db_password.txt': 'another-password' } });
    expect(changed.secrets.find((secret) => secret.key === 'db_password')!.name).not.toBe(secretName);
    expect(referencedFiles(text)).toEqual(['./secrets/db_password.txt', './postgresql.conf']);
    expect(refusal(text, { files: { 'postgresql.conf': '' } })).toEqual([{ path: 'secrets.db_password.file', message: expect.stringMatching(/was not provided/) }]);
  });

  it('accepts with a warning what Swarm ignores, as Docker does, and reads restart as the restart policy', () => {
    const planned = plan(`
services:
  web:
    image: shop/web:1
    build: { context: . }
    container_name: web
    depends_on: [db]
    restart: on-failure:3
  db:
    image: postgres:16
    deploy: { restart_policy: { condition: on-failure, delay: 5s, max_attempts: 3, window: 2m } }
`);
    expect(planned.warnings.map((warning) => warning.path)).toEqual(['services.web.build', 'services.web.container_name', 'services.web.depends_on', 'services.web.restart']);
    expect(spec(planned, 'web').TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', MaxAttempts: 3 });
    expect(spec(planned, 'db').TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', Delay: 5e9, MaxAttempts: 3, Window: 120e9 });
  });

  it('refuses what cannot work on Swarm with the path, the reason and a hint', () => {
    expect(refusal('services:\n  web:\n    build: .\n')).toEqual([{ path: 'services.web.image', message: expect.stringMatching(/Swarm cannot build images/) }]);
    expect(refusal('services:\n  web:\n    image: nginx\n    extends: { service: base }\n')).toEqual([
      { path: 'services.web.extends', message: expect.stringMatching(/not supported on Swarm.*anchors/) },
    ]);
    expect(refusal('services:\n  web:\n    image: nginx\n    enviroment: { A: b }\n')).toEqual([
      { path: 'services.web.enviroment', message: expect.stringMatching(/unknown field "enviroment" \(did you mean "environment"\?\) \(line 4/) },
    ]);
    expect(refusal('services:\n  web:\n    image: nginx\n    networks: [front]\n')).toEqual([{ path: 'services.web.networks.front', message: expect.stringMatching(/undefined network "front"/) }]);
    expect(refusal('services:\n  web:\n    image: nginx\n    volumes: [data:/data]\n')).toEqual([{ path: 'services.web.volumes[0]', message: expect.stringMatching(/undefined volume "data"/) }]);
    expect(refusal('services:\n  web:\n    image: nginx\n    deploy: { mode: global, replicas: 2 }\n')).toEqual([
      { path: 'services.web.deploy.replicas', message: expect.stringMatching(/replicated/) },
    ]);
    expect(refusal('services:\n  web:\n    image: nginx\n    deploy: { resources: { limits: { cpus: 0.5 } } }\n')).toEqual([
      { path: 'services.web.deploy.resources.limits.cpus', message: expect.stringMatching(/must be a string: quote it/) },
    ]);
    expect(refusal('name: shop\nservices:\n  web:\n    image: nginx\n')).toEqual([{ path: 'name', message: expect.stringMatching(/given when deploying/) }]);
    expect(refusal('services:\n  web:\n    image: Nginx:latest\n')).toEqual([{ path: 'services.web.image', message: expect.stringMatching(/must be lowercase/) }]);
    expect(refusal('services:\n  web:\n    image: nginx\n  web:\n    image: redis\n')[0]).toMatchObject({ path: '(yaml)', message: expect.stringMatching(/line 4.*unique/) });
    expect(refusal('services:\n  web:\n    image: nginx\n', { stack: 'Shop Stack' })).toEqual([{ path: '(stack name)', message: expect.stringMatching(/not a stack name/) }]);
    // Hostile input: aliases that would expand exponentially, and a route that would break out of Traefik's rule.
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, index) => `${String.fromCharCode(98 + index)}: &${String.fromCharCode(98 + index)} [${Array(9).fill(`*${String.fromCharCode(97 + index)}`).join(', ')}]`)].join('\n');
    expect(refusal(`x-laughs:\n${laughs.replace(/^/gm, '  ')}\nservices:\n  web:\n    image: nginx\n`)).toEqual([{ path: '(yaml)', message: expect.stringMatching(/alias/i) }]);
    expect(refusal('services:\n  web:\n    image: nginx\n    x-jarvis: { routes: [{ host: "a.org`) || Host(`evil.org", port: 80 }] }\n')).toEqual([
      { path: 'services.web.x-jarvis.routes[0].host', message: expect.stringMatching(/a host name/) },
    ]);
  });

  it('keeps Jarvis additions under x-jarvis: Traefik routes as labels, connection secrets resolved only at deploy', () => {
    const planned = plan(`
services:
  web:
    image: shop/web:1
    x-jarvis:
      routes: [{ host: shop.example.org, port: 8080, tlsResolver: letsencrypt }]
      secrets: [{ connection: shop-db, file: database_url }, { connection: smtp, env: SMTP_PASSWORD }]
`);
    expect(spec(planned, 'web').Labels).toMatchObject({
      'traefik.enable': 'true',
      'traefik.http.routers.shop-web-0.rule': 'Host(`shop.example.org`) && PathPrefix(`/`)',
      'traefik.http.services.shop-web-0.loadbalancer.server.port': '8080',
      'traefik.http.routers.shop-web-0.tls.certresolver': 'letsencrypt',
    });
    expect(planned.services[0]!.connectionSecrets).toEqual([
      { connection: 'shop-db', file: 'database_url' },
      { connection: 'smtp', env: 'SMTP_PASSWORD' },
    ]);
    expect(refusal('services:\n  web:\n    image: nginx\n    x-jarvis: { routes: [{ host: a.example, port: 80, tls: true }] }\n')[0]).toMatchObject({ path: 'services.web.x-jarvis.routes[0].tls' });
    // A top-level secret can take its data from a connection, referenced like any secret.
    const fromConnection = plan('services:\n  web:\n    image: nginx\n    secrets: [{ source: db, target: database_url }]\nsecrets:\n  db:\n    x-jarvis: { connection: shop-db }\n');
    expect(fromConnection.secrets).toEqual([{ key: 'db', name: 'shop_db', external: false, labels: { 'com.docker.stack.namespace': 'shop' }, connection: 'shop-db' }]);
    expect(refusal('services:\n  web:\n    image: nginx\nsecrets:\n  db:\n    file: ./db.txt\n    x-jarvis: { connection: shop-db }\n', { files: { 'db.txt': 'x' } })).toEqual([
      { path: 'secrets.db.file', message: expect.stringMatching(/conflicts with x-jarvis\.connection/) },
    ]);
  });
});
