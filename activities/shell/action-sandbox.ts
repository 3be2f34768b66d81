// The boundary between the worker and the processes its actions start. The
// worker holds the control plane's secrets (the secret key, the database
// credentials, its own environment); an action's process gets none of them:
// an explicit, minimal environment, a private home folder of its own, and,
// when the worker runs as root, another user (JARVIS_ACTION_USER, `nobody`
// by default) that can read neither the secret key file nor the worker's
// /proc entries.
import { execFileSync } from 'node:child_process';
import { chown, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ProcessLedger } from './process-ledger.js';

/** The account action processes run as. */
export interface ProcessIdentity {
  name: string;
  uid: number;
  gid: number;
}

/** How a worker starts the processes of actions. */
export interface ActionProcessPolicy {
  /** Another user to run as; absent: the worker's own user (a worker that is not root cannot switch). */
  user?: ProcessIdentity;
  /** PATH of action processes (not a secret: the worker's own search path). */
  path: string;
  /** Where the worker records the process groups it starts, so the next worker ends them after a crash. */
  ledger?: ProcessLedger;
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const DEFAULT_PROCESS_POLICY: ActionProcessPolicy = { path: SAFE_PATH };

export class ActionUserError extends Error {
  override name = 'ActionUserError';
}

/** Looks a user up by name or uid in the system's user database. */
export function lookUpUser(nameOrUid: string): ProcessIdentity {
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', '--', nameOrUid], { encoding: 'utf8', env: { PATH: SAFE_PATH } }).trim();
  } catch {
    throw new ActionUserError(`JARVIS_ACTION_USER names "${nameOrUid}", which is not a user on this machine (create it, e.g. useradd --system jarvis-action)`);
  }
  const [name, , uid, gid] = entry.split('\n')[0]!.split(':');
  return { name: name!, uid: Number(uid), gid: Number(gid) };
}

/**
 * The process policy of a worker: as root, actions run as `configured` (or
 * `nobody`); otherwise as the worker's own user, which cannot switch.
 */
export function resolveActionProcessPolicy(configured: string | undefined, searchPath: string, runningAsRoot = process.getuid?.() === 0): ActionProcessPolicy {
  const policy = { path: searchPath || SAFE_PATH };
  if (!runningAsRoot) {
    if (configured && lookUpUser(configured).uid !== process.getuid?.()) {
      throw new ActionUserError(`JARVIS_ACTION_USER=${configured} needs a worker started as root (it switches to that user for every action process)`);
    }
    return policy;
  }
  return { ...policy, user: lookUpUser(configured ?? 'nobody') };
}

/** The environment of an action process: only what it needs, never the worker's own. */
export function actionEnvironment(policy: ActionProcessPolicy, home: string, extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: policy.path, HOME: home, TMPDIR: home, LANG: 'C.UTF-8', ...(policy.user ? { USER: policy.user.name, LOGNAME: policy.user.name } : {}), ...extra };
}

/** A private folder the action's user owns (mode 0700), removed when `work` ends. */
export async function withPrivateFolder<Result>(policy: ActionProcessPolicy, prefix: string, work: (folder: string) => Promise<Result>): Promise<Result> {
  const folder = await mkdtemp(path.join(tmpdir(), prefix));
  try {
    if (policy.user) await chown(folder, policy.user.uid, policy.user.gid);
    return await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Hands a file the worker wrote (a key, an inventory) to the action's user. */
export async function giveToActionUser(policy: ActionProcessPolicy, file: string): Promise<void> {
  if (policy.user) await chown(file, policy.user.uid, policy.user.gid);
}

/**
 * Copies a folder of the installation (playbooks) into an action's private
 * folder, owned by the action user: it reads the copy, whatever the
 * permissions of the folders the installation lives in.
 */
export async function copyForActionUser(policy: ActionProcessPolicy, source: string, destination: string): Promise<void> {
  await cp(source, destination, { recursive: true, dereference: true });
  if (!policy.user) return;
  await chown(destination, policy.user.uid, policy.user.gid);
  for (const entry of await readdir(destination, { recursive: true })) {
    await chown(path.join(destination, entry), policy.user.uid, policy.user.gid);
  }
}
