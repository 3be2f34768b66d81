// Temporal's codec-server protocol, so Temporal's own web UI can show the
// decrypted inputs and results of runs to signed-in users.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { requireAdministrator } from '../guards.js';
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
      return { payloads: (await codec.decode(request.body.payloads.map(fromJson))).map(toJson) };
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
