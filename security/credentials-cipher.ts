// AES-256-GCM for secrets at rest (connection credentials). Every ciphertext
// carries the id of the key that made it, so keys can rotate: a new key
// encrypts, older ones still decrypt.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';

export interface SealedSecret {
  ciphertext: string;
  keyId: string;
}

export class CredentialsCipher {
  private readonly keysById: Map<string, Buffer>;
  private readonly currentKeyId: string;

  /** `keys[0]` encrypts; every key decrypts what it made. */
  constructor(keys: Buffer[]) {
    if (keys.length === 0 || keys.some((key) => key.length !== 32)) throw new Error('AES-256-GCM needs 32-byte keys');
    this.keysById = new Map(keys.map((key) => [CredentialsCipher.keyIdOf(key), key]));
    this.currentKeyId = CredentialsCipher.keyIdOf(keys[0]!);
  }

  static keyIdOf(key: Buffer): string {
    return createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  seal(plaintext: string, context: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keysById.get(this.currentKeyId)!, iv);
    // The context (e.g. the connection id) is authenticated, so a ciphertext cannot be moved to another row.
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [VERSION, this.currentKeyId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')];
    return { ciphertext: parts.join(':'), keyId: this.currentKeyId };
  }

  open(ciphertext: string, context: string): string {
    const [version, keyId, iv, tag, body] = ciphertext.split(':');
    if (version !== VERSION || !keyId || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
    const key = this.keysById.get(keyId);
    if (!key) throw new Error(`the key ${keyId} that sealed this secret is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}
