// Who may open a socket route (run logs, container follow): a browser page of
// an allowed origin, holding a fresh ticket issued for exactly this subject.
// Browsers cannot send a bearer header on a WebSocket, hence the ticket.
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { LogTickets } from '../security/tokens.js';

/** Closes the socket with 1008 and answers false unless the origin is allowed and the ticket is valid for the subject. */
export async function admitSocket(socket: WebSocket, request: FastifyRequest, check: { allowedOrigins: string[]; tickets: LogTickets; ticket: string; subject: string }): Promise<boolean> {
  const origin = request.headers.origin;
  if (origin && !check.allowedOrigins.includes(origin)) {
    socket.close(1008, 'origin not allowed');
    return false;
  }
  if (!(await check.tickets.verify(check.ticket, check.subject))) {
    socket.close(1008, 'invalid or expired ticket');
    return false;
  }
  return true;
}
