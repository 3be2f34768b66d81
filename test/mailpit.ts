// A real SMTP server for tests: mailpit (built by .ci/run into the cache), on
// free loopback ports, with its HTTP API to read what it received.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const MAILPIT_PATH = path.join(os.homedir(), '.cache', 'jarvis', 'bin', 'mailpit');

export interface MailpitMessage {
  ID: string;
  Subject: string;
  To: Array<{ Address: string }>;
  From: { Address: string };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startMailpit() {
  if (!existsSync(MAILPIT_PATH)) throw new Error(`mailpit is not built at ${MAILPIT_PATH}: run .ci/run --setup-only`);
  const smtpPort = await freePort();
  const httpPort = await freePort();
  const child: ChildProcess = spawn(
    MAILPIT_PATH,
    ['--smtp', `127.0.0.1:${smtpPort}`, '--listen', `127.0.0.1:${httpPort}`, '--smtp-auth-accept-any', '--smtp-auth-allow-insecure', '--disable-version-check'],
    { stdio: 'ignore' },
  );
  const api = `http://127.0.0.1:${httpPort}/api/v1`;
  for (let tries = 0; ; tries += 1) {
    try {
      if ((await fetch(`${api}/messages`)).ok) break;
    } catch {
      // not listening yet
    }
    if (tries > 100 || child.exitCode !== null) throw new Error('mailpit did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    smtpPort,
    async messages(): Promise<MailpitMessage[]> {
      const answer = (await (await fetch(`${api}/messages?limit=500`)).json()) as { messages: MailpitMessage[] };
      return answer.messages;
    },
    async to(address: string): Promise<MailpitMessage[]> {
      return (await this.messages()).filter((message) => message.To.some((to) => to.Address === address));
    },
    async body(id: string): Promise<{ Text: string; HTML: string; Subject: string }> {
      return (await (await fetch(`${api}/message/${id}`)).json()) as { Text: string; HTML: string; Subject: string };
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    },
  };
}
