// The payload key the recorded histories under test/histories were encrypted
// with: a fixture, not a secret, so every machine can replay them.
import { loadEnv } from '../config/env.js';
import { createDataConverter } from '../temporal/payload-codec.js';

export const RECORDED_HISTORIES_SECRET_KEY = Buffer.from('jarvis recorded histories key 32').toString('base64');

/** The first recorded histories predate payload encryption: their replay alone accepts payloads in clear. */
export function recordedHistoriesDataConverter() {
  return createDataConverter({ ...loadEnv(), secretKey: RECORDED_HISTORIES_SECRET_KEY }, { acceptPlaintext: true });
}
