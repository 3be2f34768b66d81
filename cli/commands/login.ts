// `jarvis login|logout`: the API session later commands use (see ../session.ts).
import type { Command } from 'commander';
import os from 'node:os';
import { JarvisProblem } from '../../manifest/errors.js';
import { ApiClient, signInProblem } from '../api-client.js';
import type { CliContext } from '../context.js';
import { removeSession, saveSession } from '../session.js';
import { readStdin } from '../stdin.js';

export function registerLoginCommands(program: Command, { env }: CliContext): void {
  program
    .command('login')
    .description('sign in to the API; later run commands go through it (the password is read from standard input)')
    .requiredOption('--email <email>')
    .option('--api <url>', 'the API', env.apiUrl)
    .option('--totp <code>', 'the current one-time code, for accounts with TOTP')
    .action(async (options: { email: string; api: string; totp?: string }) => {
      if (process.stdin.isTTY) throw new JarvisProblem('pipe the password on standard input, e.g. `read -s P; echo "$P" | npx jarvis login --email ...`', 'invalid');
      const password = await readStdin();
      const api = options.api.replace(/\/$/, '');
      const login = await new ApiClient(api, undefined, signInProblem).call<{ accessToken: string }>('POST', '/auth/login', { email: options.email, password, ...(options.totp ? { totp: options.totp } : {}) });
      // No expiry asked: the token lives as long as the API allows (JARVIS_API_TOKEN_MAX_TTL).
      const created = await new ApiClient(api, login.accessToken, signInProblem).call<{ token: string }>('POST', '/auth/api-tokens', { name: `jarvis CLI on ${os.hostname()}` });
      const file = saveSession(env, { apiUrl: api, token: created.token, email: options.email });
      console.log(`Signed in to ${api} as ${options.email}; the CLI token is kept in ${file}`);
    });

  program
    .command('logout')
    .description('forget the API session; run commands then talk to Temporal directly')
    .action(() => {
      console.log(removeSession(env) ? 'Signed out' : 'There was no session');
    });
}
