// Temporal's codec-server protocol, so Temporal's own web UI can show the
// decrypted inputs and results of runs to signed-in admins: each payload only
// to an admin of its environment (the one its key names); the others come
// back as they were, encrypted.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { environmentOfKeyId } from '../../temporal/payload-keys.js';
import { payloadKeyId } from '../../temporal/payload-codec.js';
import { requireAdministrator } from '../guards.js';
import { principalOf } from '../plugins/auth.js';
import { environmentsWhere } from '../rbac.js';
import { problemResponses } from '../schemas.js';

const JsonPayload = Type.Object({ metadata: Type.Optional(Type.Record(Type.String(), Type.String())), data: Type.Optional(Type.String()) });
const Payloads = Type.Object({ payloads: Type.Array(JsonPayload, { maxItems: 1_000 }) }, { additionalProperties: false });
type JsonPayloadValue = { metadata?: Record<string, string>; data?: string };

const fromJson = (payload: JsonPayloadValue): Payload => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(payload.data ?? '', 'base64'),
});
const toJson = (payload: Payload): JsonPayloadValue => ({
  metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
});

export const codecRoutes: FastifyPluginAsyncTypebox<{ codec: PayloadCodec }> = async (app, { codec }) => {
  app.post(
    '/codec/decode',
    { schema: { tags: ['codec'], summary: "Decrypt payloads for Temporal's web UI (admins)", body: Payloads, response: { 200: Payloads, ...problemResponses } } },
    async (request) => {
      requireAdministrator(request);
      const administered = new Set(environmentsWhere(principalOf(request), 'administer'));
      const payloads = request.body.payloads.map(fromJson);
      const decodable = payloads.map((payload) => {
        const environment = environmentOfKeyId(payloadKeyId(payload) ?? '');
        return environment === undefined || administered.has(environment);
      });
      const decoded = await codec.decode(payloads.filter((_, index) => decodable[index]));
      return { payloads: payloads.map((payload, index) => toJson(decodable[index] ? decoded.shift()! : payload)) };
    },
  );
  app.post(
    '/codec/encode',
    { schema: { tags: ['codec'], summary: "Encrypt payloads for Temporal's web UI (admins)", body: Payloads, response: { 200: Payloads, ...problemResponses } } },
    async (request) => {
      requireAdministrator(request);
      return { payloads: (await codec.encode(request.body.payloads.map(fromJson))).map(toJson) };
    },
  );
};
