// Encrypts every workflow payload (inputs, outputs, update arguments, query
// answers, failure details) with AES-256-GCM before it reaches Temporal, so
// histories at rest hold no secret in clear. Payloads that were never
// encrypted (older histories) pass through unchanged.
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { JarvisEnv } from '../config/env.js';
import { SecretKey } from '../security/secret-key.js';

const { temporal } = proto;
const ENCODING = 'binary/encrypted';
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class EncryptionCodec implements PayloadCodec {
  private readonly keyId: string;

  constructor(private readonly key: Buffer) {
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const plaintext = temporal.api.common.v1.Payload.encode(payload).finish();
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return {
        metadata: { encoding: textEncoder.encode(ENCODING), 'encryption-key-id': textEncoder.encode(this.keyId) },
        data: Buffer.concat([iv, cipher.getAuthTag(), body]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!payload.metadata?.encoding || textDecoder.decode(payload.metadata.encoding) !== ENCODING) return payload;
      const keyId = payload.metadata['encryption-key-id'] ? textDecoder.decode(payload.metadata['encryption-key-id']) : '';
      if (keyId !== this.keyId) throw new Error(`this payload was encrypted with key ${keyId}, which is not configured (JARVIS_SECRET_KEY)`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      const plaintext = Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plaintext) as Payload;
    });
  }
}

/** The data converter every Temporal client and worker of an installation uses. */
export function createDataConverter(env: Pick<JarvisEnv, 'secretKey' | 'dataDir'>): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(SecretKey.load(env.secretKey, env.dataDir).derive('workflow-payloads'))] };
}
