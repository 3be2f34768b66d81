// Just enough of the PostgreSQL wire protocol for the embedded server to frame
// messages, find ReadyForQuery in PGlite's answers and keep each connection's
// prepared statement names apart.

/** Untyped messages a client sends before (or instead of) its startup message. */
export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSS_ENCRYPTION_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** The transaction status ReadyForQuery reports: idle, in a transaction, in a failed transaction. */
export type TransactionStatus = 'I' | 'T' | 'E';

/**
 * Splits complete messages off the front of `buffer`. Before startup, messages
 * have no type byte (length, then a code); after it, a type byte, then the length.
 */
export function splitMessages(buffer: Buffer, typed: boolean): { messages: Buffer[]; rest: Buffer; typed: boolean } {
  const messages: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const header = typed ? 5 : 4;
    if (buffer.length - offset < header) break;
    const length = (typed ? 1 : 0) + buffer.readInt32BE(offset + (typed ? 1 : 0));
    if (buffer.length - offset < length) break;
    messages.push(buffer.subarray(offset, offset + length));
    offset += length;
    // Only the startup message is untyped; what follows it on the connection is typed.
    if (!typed && isStartup(messages[messages.length - 1]!)) typed = true;
  }
  return { messages, rest: buffer.subarray(offset), typed };
}

export function untypedCode(message: Buffer): number {
  return message.length >= 8 ? message.readInt32BE(4) : 0;
}

export function isStartup(message: Buffer): boolean {
  return untypedCode(message) === PROTOCOL_3;
}

/** The status of the last ReadyForQuery in a stream of backend messages, if there is one. */
export function lastReadyStatus(output: Buffer): TransactionStatus | undefined {
  let status: TransactionStatus | undefined;
  let offset = 0;
  while (output.length - offset >= 5) {
    const type = output[offset];
    const length = output.readInt32BE(offset + 1);
    if (type === 0x5a /* Z */ && length === 5 && offset + 5 < output.length) {
      status = String.fromCharCode(output[offset + 5]!) as TransactionStatus;
    }
    offset += 1 + length;
  }
  return status;
}

function readCString(message: Buffer, offset: number): { value: string; end: number } {
  const end = message.indexOf(0, offset);
  if (end < 0) throw new Error('malformed message: unterminated string');
  return { value: message.toString('utf8', offset, end), end: end + 1 };
}

function typedMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function cString(value: string): Buffer {
  return Buffer.from(`${value}\0`, 'utf8');
}

/**
 * Gives a connection's named prepared statements a name of their own: PGlite
 * is one backend, so two connections preparing "find-run" would otherwise
 * collide. The unnamed statement and portals need no renaming, since a
 * connection keeps the database from Parse to Sync.
 * Returns the message (rewritten or not) and the statement name it created, if any.
 */
export function renameStatements(message: Buffer, prefix: string): { message: Buffer; prepared?: string; closed?: string } {
  const type = String.fromCharCode(message[0]!);
  const rename = (name: string) => (name === '' ? '' : `${prefix}${name}`);
  if (type === 'P') {
    const name = readCString(message, 5);
    if (name.value === '') return { message };
    return { message: typedMessage('P', Buffer.concat([cString(rename(name.value)), message.subarray(name.end)])), prepared: rename(name.value) };
  }
  if (type === 'B') {
    const portal = readCString(message, 5);
    const statement = readCString(message, portal.end);
    if (statement.value === '') return { message };
    return { message: typedMessage('B', Buffer.concat([message.subarray(5, portal.end), cString(rename(statement.value)), message.subarray(statement.end)])) };
  }
  if ((type === 'D' || type === 'C') && message[5] === 0x53 /* S */) {
    const name = readCString(message, 6);
    if (name.value === '') return { message };
    const renamed = typedMessage(type, Buffer.concat([message.subarray(5, 6), cString(rename(name.value))]));
    return type === 'C' ? { message: renamed, closed: rename(name.value) } : { message: renamed };
  }
  return { message };
}

export const SYNC = typedMessage('S', Buffer.alloc(0));

export function simpleQuery(sql: string): Buffer {
  return typedMessage('Q', cString(sql));
}

export function closeStatement(name: string): Buffer {
  return typedMessage('C', Buffer.concat([Buffer.from('S', 'latin1'), cString(name)]));
}

/** A FATAL ErrorResponse, which pg reports on the query in flight before the connection ends. */
export function fatalError(code: string, text: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from('S', 'latin1'), cString('FATAL'),
    Buffer.from('V', 'latin1'), cString('FATAL'),
    Buffer.from('C', 'latin1'), cString(code),
    Buffer.from('M', 'latin1'), cString(text),
    Buffer.from([0]),
  ]);
  return typedMessage('E', fields);
}

/** The channel of a simple query that is a single LISTEN or UNLISTEN ('*' for all), as PostgreSQL folds it. */
export function listenCommand(message: Buffer): { listen: string } | { unlisten: string } | undefined {
  if (message[0] !== 0x51 /* Q */) return undefined;
  const sql = readCString(message, 5).value;
  const match = /^\s*(UNLISTEN|LISTEN)\s+(\*|"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*;?\s*$/i.exec(sql);
  if (!match) return undefined;
  const raw = match[2]!;
  const channel = raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw.toLowerCase();
  return match[1]!.toUpperCase() === 'LISTEN' ? { listen: channel } : { unlisten: channel };
}

/**
 * Takes the NotificationResponses out of a stream of backend messages. The one
 * backend hears every channel any connection listens on, so a notification
 * belongs to whoever listens, not to the connection whose statement raised it.
 */
export function takeNotifications(output: Buffer): { rest: Buffer; notifications: Array<{ channel: string; message: Buffer }> } {
  const kept: Buffer[] = [];
  const notifications: Array<{ channel: string; message: Buffer }> = [];
  let offset = 0;
  while (output.length - offset >= 5) {
    const end = offset + 1 + output.readInt32BE(offset + 1);
    const message = output.subarray(offset, end);
    if (message[0] === 0x41 /* A */) notifications.push({ channel: readCString(message, 9).value, message });
    else kept.push(message);
    offset = end;
  }
  if (notifications.length === 0) return { rest: output, notifications };
  return { rest: Buffer.concat([...kept, output.subarray(offset)]), notifications };
}
