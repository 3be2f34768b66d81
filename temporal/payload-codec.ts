// Encrypts every workflow payload (inputs, outputs, update arguments, query
// answers, failure details) with AES-256-GCM before it reaches Temporal, so
// histories at rest hold no secret in clear, each with its environment's key
// (temporal/payload-keys.ts). A payload that is not
// encrypted is refused on decode: it was not written by Jarvis (only the
// replay of histories recorded before encryption may accept them).
import type { DataConverter, Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import proto from '@temporalio/proto';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JarvisEnv } from '../config/env.js';
import { SecretKey } from '../security/secret-key.js';
import { DerivedPayloadKeyRing, environmentOfContext, type KeyGenerationSource, type PayloadKeyRing } from './payload-keys.js';

const { temporal } = proto;
const ENCODING = 'binary/encrypted';
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keys: PayloadKeyRing,
    private readonly options: { acceptPlaintext?: boolean } = {},
  ) {}

  /** `context` names the workflow or activity the payloads belong to, hence their environment's key. */
  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const { id, key } = await this.keys.encryptionKey(environmentOfContext(context));
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        metadata: { encoding: textEncoder.encode(ENCODING), 'encryption-key-id': textEncoder.encode(id) },
        data: Buffer.concat([iv, cipher.getAuthTag(), body]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(
      payloads.map(async (payload) => {
        const encoding = payload.metadata?.encoding ? textDecoder.decode(payload.metadata.encoding) : '';
        if (encoding !== ENCODING) {
          if (this.options.acceptPlaintext) return payload;
          throw new Error(`refusing a payload that is not encrypted (encoding "${encoding || 'none'}"): it was not written by Jarvis`);
        }
        const keyId = payloadKeyId(payload) ?? '';
        const key = await this.keys.keyById(keyId);
        if (!key) throw new Error(`this payload was encrypted with key ${keyId}, which this process does not hold (JARVIS_SECRET_KEY, or another environment's)`);
        const data = Buffer.from(payload.data ?? new Uint8Array());
        const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
        decipher.setAuthTag(data.subarray(12, 28));
        const plaintext = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
      }),
    );
  }
}

/** The id of the key an encrypted payload names; undefined for one in clear. */
export function payloadKeyId(payload: Payload): string | undefined {
  const encoding = payload.metadata?.encoding ? textDecoder.decode(payload.metadata.encoding) : '';
  const keyId = payload.metadata?.['encryption-key-id'];
  return encoding === ENCODING && keyId ? textDecoder.decode(keyId) : undefined;
}

/** The key ring of the installation's processes (API, workers, CLI). */
export function installationKeyRing(env: Pick<JarvisEnv, 'secretKey' | 'dataDir'>, generations?: KeyGenerationSource): DerivedPayloadKeyRing {
  return new DerivedPayloadKeyRing(SecretKey.load(env.secretKey, env.dataDir), generations);
}

/**
 * The data converter every Temporal client and worker of an installation
 * uses. `generations`: a worker with a database writes with each
 * environment's current key (what its agents hold); the others may write with
 * the first, which every worker still reads.
 */
export function createDataConverter(
  env: Pick<JarvisEnv, 'secretKey' | 'dataDir'>,
  options: { acceptPlaintext?: boolean; generations?: KeyGenerationSource } = {},
): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(installationKeyRing(env, options.generations), options)] };
}
