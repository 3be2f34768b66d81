// The CLI's one HTTP client for the Jarvis API: JSON in and out, a bearer
// token, and problem+json answers turned into a JarvisProblem that carries the
// API's own words (the exit code follows from its kind).
import { JarvisProblem, type ProblemKind } from '../manifest/errors.js';

interface ProblemBody {
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
}

/** How an answer that is not 2xx becomes the problem the user reads. */
export type ProblemReader = (status: number, problem: ProblemBody | undefined) => JarvisProblem;

const KIND_BY_STATUS: Record<number, ProblemKind> = { 400: 'invalid', 401: 'forbidden', 403: 'forbidden', 404: 'not-found', 409: 'conflict', 502: 'unavailable' };

/** For calls with a session's token: a 401 means the session itself is no longer valid. */
export const sessionProblem: ProblemReader = (status, problem) =>
  new JarvisProblem(status === 401 ? 'the API session is not valid: run `npx jarvis login` again' : (problem?.detail ?? `HTTP ${status}`), KIND_BY_STATUS[status] ?? 'invalid', problem?.errors ?? []);

/** For signing in: a 401 is a wrong password or code, which the API's detail explains. */
export const signInProblem: ProblemReader = (status, problem) => new JarvisProblem(problem?.detail ?? `HTTP ${status}`, status === 401 ? 'forbidden' : 'invalid');

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
    private readonly readProblem: ProblemReader = sessionProblem,
  ) {}

  /** One API call; its JSON answer, or a JarvisProblem. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.request(method, path, body);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** One API call whose answer is text, not JSON (Graphviz DOT). */
  text(method: string, path: string): Promise<string> {
    return this.request(method, path);
  }

  /** One API call whose answer is a file (a PDF report). */
  async bytes(method: string, path: string): Promise<Buffer> {
    return Buffer.from(await (await this.respond(method, path)).arrayBuffer());
  }

  /** One GET whose answer is streamed (an artifact): the body and its headers. */
  async stream(path: string): Promise<{ body: ReadableStream<Uint8Array>; headers: Headers }> {
    const response = await this.respond('GET', path);
    if (!response.body) throw new JarvisProblem(`the API answered ${path} without a body`, 'unavailable');
    return { body: response.body, headers: response.headers };
  }

  private async request(method: string, path: string, body?: unknown): Promise<string> {
    return (await this.respond(method, path, body)).text();
  }

  /** The answer when it is 2xx; otherwise its problem, thrown. */
  private async respond(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new JarvisProblem(`cannot reach the API at ${this.baseUrl}: ${(error as Error).message}`, 'not-found');
    }
    if (!response.ok) {
      const text = await response.text();
      throw this.readProblem(response.status, (text ? JSON.parse(text) : undefined) as ProblemBody | undefined);
    }
    return response;
  }
}
