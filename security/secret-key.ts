// The installation's secret: from JARVIS_SECRET_KEY, or generated once into
// the data directory (never a built-in fallback). Purpose-specific keys are
// derived from it, so one secret serves token signing and encryption.
import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SECRET_KEY_FILE = 'secret.key';

export class SecretKey {
  private constructor(
    private readonly material: Buffer,
    readonly source: 'environment' | 'generated' | 'file',
  ) {}

  static load(configured: string | undefined, dataDir: string): SecretKey {
    if (configured) return new SecretKey(decode(configured, 'JARVIS_SECRET_KEY'), 'environment');
    const file = path.join(dataDir, SECRET_KEY_FILE);
    if (existsSync(file)) return new SecretKey(decode(readFileSync(file, 'utf8').trim(), file), 'file');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const material = randomBytes(32);
    // Written aside, then linked into place: the link fails if another process won the race,
    // and nobody ever reads a half-written key.
    const pending = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(pending, `${material.toString('base64')}\n`, { mode: 0o600 });
    try {
      linkSync(pending, file);
    } catch (error) {
      // Another process of this installation generated it first: use theirs.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return new SecretKey(decode(readFileSync(file, 'utf8').trim(), file), 'file');
      throw error;
    } finally {
      unlinkSync(pending);
    }
    return new SecretKey(material, 'generated');
  }

  /** A 32-byte key for one purpose, e.g. "jwt" or "credentials". */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.material, Buffer.alloc(0), `jarvis:${purpose}`, 32));
  }
}

function decode(text: string, where: string): Buffer {
  const material = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (material.length < 32) throw new Error(`${where} must hold at least 32 random bytes in base64 (openssl rand -base64 32)`);
  return material;
}

/**
 * The data directory holds the secret key and, embedded, the database files:
 * only the installation's own user may enter it (action processes run as another).
 */
export function ensurePrivateDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
}
