// What a failure's log says went wrong, read without a model: known error
// signatures (disk full, port in use, expired certificate, OOM...), the exit
// code, and the FIRST line that shows an error, not the last line printed.
// Lines that talk to an assistant ("ignore previous instructions", "you are
// ...") are flagged as suspect and never become the cause: a log is written
// by whatever ran, and an attacker can print the last line of it.

export interface ErrorSignature {
  /** A stable id, stored with documents so incidents with the same signature meet again. */
  id: string;
  /** The cause in words, as an operator would say it. */
  cause: string;
  pattern: RegExp;
}

/** Known error signatures, most specific first: a line gets the first that matches. */
export const ERROR_SIGNATURES: readonly ErrorSignature[] = [
  { id: 'disk-full', cause: 'The disk is full (no space left on device)', pattern: /\bENOSPC\b|no space left on device|disk (is )?full|not enough (free )?(disk )?space/i },
  { id: 'port-in-use', cause: 'The port is already in use by another process', pattern: /\bEADDRINUSE\b|address already in use|port is already allocated|bind: address in use/i },
  { id: 'certificate-expired', cause: 'A TLS certificate has expired', pattern: /certificate (has )?expired|certificate is expired|CERT_HAS_EXPIRED|x509: certificate has expired/i },
  {
    id: 'out-of-memory',
    cause: 'The process ran out of memory and was killed (OOM)',
    pattern: /\bOOM[ -]?kill(ed|er)?\b|out of memory|OOMKilled|Killed process \d+|cannot allocate memory|\bENOMEM\b|JavaScript heap out of memory/i,
  },
  {
    id: 'database-auth',
    cause: 'The database refused the credentials (password authentication failed)',
    pattern: /password authentication failed|authentication failed for user|Access denied for user|FATAL:\s+role ".*" does not exist/i,
  },
  {
    id: 'ssh-host-key',
    cause: 'The SSH host key is unknown or changed (host key verification failed)',
    pattern: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key (for .* )?(has )?changed|No (ED25519|RSA|ECDSA) host key is known/i,
  },
  { id: 'permission-denied', cause: 'Permission denied (missing rights on a file, socket or command)', pattern: /permission denied|\bEACCES\b|\bEPERM\b|operation not permitted/i },
  {
    id: 'dns-resolution',
    cause: 'A host name could not be resolved (DNS)',
    pattern: /\bNXDOMAIN\b|could not resolve host|\bENOTFOUND\b|\bEAI_AGAIN\b|name or service not known|temporary failure in name resolution|no such host/i,
  },
  { id: 'connection-refused', cause: 'The connection was refused (the service is not listening)', pattern: /\bECONNREFUSED\b|connection refused/i },
  {
    id: 'swarm-rollback',
    cause: 'The Swarm service update failed and was rolled back',
    pattern: /rollback (started|completed|paused)|update (was )?rolled back|rolling back (the )?(service|update)|service .* rolled back|update paused due to failure/i,
  },
  { id: 'timeout', cause: 'An operation timed out', pattern: /\bETIMEDOUT\b|timed out|deadline exceeded|\btimeout\b/i },
  { id: 'command-not-found', cause: 'A command or file is missing', pattern: /command not found|\bENOENT\b|no such file or directory/i },
];

/** Exit codes that say something by themselves. */
const EXIT_CODE_CAUSES: Record<number, { id: string; cause: string }> = {
  137: { id: 'out-of-memory', cause: 'The process was killed by SIGKILL (exit 137), most often by the OOM killer' },
  126: { id: 'permission-denied', cause: 'The command could not be executed (exit 126: permission denied or not executable)' },
  127: { id: 'command-not-found', cause: 'The command was not found (exit 127)' },
  143: { id: 'terminated', cause: 'The process was terminated by SIGTERM (exit 143)' },
};

/**
 * Lines that address an assistant or try to steer one. Logs are data; such a
 * line is evidence of tampering at most, never of the failure's cause.
 */
const SUSPECT_PATTERNS: readonly RegExp[] = [
  /\bignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|prompts?|messages?|rules)/i,
  /\bdisregard (all |any )?(the )?(previous|prior|above|earlier|your)\b/i,
  /\bforget (all |everything|your|the) (previous |prior )?(instructions|rules|above)?/i,
  /^\W*(assistant|system|ai|chatgpt|gpt|claude|jarvis)\s*:/i,
  /\bas an ai\b/i,
  /\byou are (now )?(an?|the) (ai|assistant|language model|helpful|chat ?bot|llm)\b/i,
  /\b(dear|hey|hi|attention|note to) (ai|assistant|llm|model|chatgpt|jarvis)\b/i,
  /\b(new|updated|system) (instructions|prompt)\s*:/i,
  /\b(tell|instruct|ask) the (operator|user|approver) to\b/i,
  /\b(the )?(root )?cause (of this failure )?is\b.*\b(restart|delete|approve|run)\b/i,
  /\bdo not (mention|report|cite|tell)\b/i,
  /<\|?(im_start|im_end|system|endoftext)\|?>/i,
];

/** Log lines that usually carry an error, when no known signature matches. */
export const ERROR_WORDS = /\b(error|err|fail(ed|ure)?|fatal|panic|exception|traceback|denied|refused|timed? ?out|cannot|can't|unable|not found|no such|exit(ed)? (code|status)|killed|oom)\b/i;

export function isSuspectLine(text: string): boolean {
  return SUSPECT_PATTERNS.some((pattern) => pattern.test(text));
}

export function signatureOf(text: string): ErrorSignature | undefined {
  return ERROR_SIGNATURES.find((signature) => signature.pattern.test(text));
}

/** The exit code named in an error message ("exited with code 3", "exit status 137", "exit code: 1"). */
export function exitCodeOf(text: string | undefined): number | undefined {
  const match = text ? /\bexit(?:ed)?(?: with)? (?:code|status)[: ]*(\d{1,3})\b/i.exec(text) : null;
  return match ? Number(match[1]) : undefined;
}

export interface LogLine {
  seq: number;
  stream: string;
  text: string;
}

export interface FailureReading<L extends LogLine = LogLine> {
  /** The first line that shows the error (a known signature first, then stderr or error words); never a suspect line. */
  firstError?: L;
  /** Lines that show an error, in order, suspect lines left out. */
  errorLines: L[];
  /** Lines that address an assistant: shown flagged, never used as the cause. */
  suspect: L[];
  signature?: { id: string; cause: string };
  exitCode?: number;
  /** One sentence: the signature's cause, or the first error line; undefined when nothing says. */
  cause?: string;
}

/**
 * Reads a failure from its step error and the failing step's lines. The
 * signature of the earliest line that has one wins: the first error is
 * usually the cause and later ones its consequences ("connection refused"
 * after "address already in use").
 */
export function readFailure<L extends LogLine>(lines: L[], stepError?: string): FailureReading<L> {
  const tainted = lines.filter((line) => line.text.split('\n').some(isSuspectLine));
  // Jarvis's own lines (stream "system", e.g. "attempt 1 failed: ...") may quote a suspect line: left out, not flagged again.
  const suspect = tainted.filter((line) => line.stream !== 'system');
  const taintedSeqs = new Set(tainted.map((line) => line.seq));
  const clean = lines.filter((line) => !taintedSeqs.has(line.seq));
  const signed = clean.find((line) => line.stream !== 'system' && signatureOf(line.text));
  // Jarvis's own lines ("attempt 1 failed: command exited with code 1: ...") repeat the error in the same words for every failure.
  const errorLines = clean.filter((line) => line.stream !== 'system' && (line.stream === 'stderr' || ERROR_WORDS.test(line.text) || signatureOf(line.text)));
  const firstError = signed ?? errorLines[0];
  const exitCode = exitCodeOf(stepError);
  // The step error quotes the last stderr lines: only its parts that are not suspect may speak.
  const cleanError = stepError
    ?.split('\n')
    .filter((part) => !isSuspectLine(part))
    .join('\n');
  const found = (signed ? signatureOf(signed.text) : undefined) ?? (cleanError ? signatureOf(cleanError) : undefined);
  const byExit = exitCode !== undefined ? EXIT_CODE_CAUSES[exitCode] : undefined;
  const signature = found ? { id: found.id, cause: found.cause } : byExit;
  const quoted = firstError ? `"${firstError.text.trim().slice(0, 300)}"` : undefined;
  const exit = exitCode !== undefined ? ` (exit code ${exitCode})` : '';
  const cause = signature ? `${signature.cause}${quoted ? `: ${quoted}` : ''}${exit}` : quoted ? `${quoted}${exit}` : undefined;
  return { ...(firstError ? { firstError } : {}), errorLines, suspect, ...(signature ? { signature } : {}), ...(exitCode !== undefined ? { exitCode } : {}), ...(cause ? { cause } : {}) };
}

/** The signatures a free text (a question, an incident's symptoms) carries. */
export function signaturesIn(text: string): string[] {
  return ERROR_SIGNATURES.filter((signature) => signature.pattern.test(text)).map((signature) => signature.id);
}
