// `jarvis run artifacts RUN` and `jarvis run artifact download RUN ARTIFACT`:
// through the API (artifacts are read with the run's own authorization). A
// download is written beside its destination, checked against the SHA-256 the
// run recorded, and only then given its name.
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { JarvisProblem } from '../../manifest/errors.js';
import type { ArtifactEntry } from '../../artifacts/artifact-contract.js';
import { safeFileName } from '../../artifacts/safe-file-name.js';
import type { CliContext } from '../context.js';
import { outputOption } from '../options.js';
import { printData, type OutputFormat } from '../output.js';

const artifactColumns = [
  { header: 'id', value: (artifact: ArtifactEntry) => artifact.id },
  { header: 'step', value: (artifact: ArtifactEntry) => `${artifact.stepId}#${artifact.attempt}` },
  { header: 'name', value: (artifact: ArtifactEntry) => artifact.name },
  { header: 'size', value: (artifact: ArtifactEntry) => artifact.size },
  { header: 'sha256', value: (artifact: ArtifactEntry) => artifact.sha256 },
  { header: 'created', value: (artifact: ArtifactEntry) => artifact.createdAt },
];

function artifactsPath(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}/artifacts`;
}

/** An artifact named by its id, or by its name when exactly one artifact of the run has it. */
function pick(artifacts: ArtifactEntry[], wanted: string, runId: string): ArtifactEntry {
  const byId = artifacts.find((artifact) => artifact.id === wanted);
  if (byId) return byId;
  const named = artifacts.filter((artifact) => artifact.name === wanted);
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw new JarvisProblem(`run ${runId} has ${named.length} artifacts named ${wanted}: give its id (jarvis run artifacts ${runId})`, 'conflict');
  throw new JarvisProblem(`run ${runId} has no artifact ${wanted} (jarvis run artifacts ${runId} lists them)`, 'not-found');
}

export function registerArtifactCommands(run: Command, context: CliContext): void {
  run
    .command('artifacts')
    .description('list the artifacts a run published (dumps, recaps, files of its steps)')
    .argument('<id>', 'the run')
    .addOption(outputOption())
    .action(async (id: string, options: { output: OutputFormat }) => {
      printData(options.output, await context.api().call<ArtifactEntry[]>('GET', artifactsPath(id)), artifactColumns);
    });

  run
    .command('artifact')
    .description('work with one artifact of a run')
    .command('download')
    .description('download an artifact and check its SHA-256 against the one the run recorded')
    .argument('<id>', 'the run')
    .argument('<artifact>', 'the artifact: its id, or its name')
    .option('-o, --out <file>', 'where to write it (default: its name, in the current folder)')
    .action(async (id: string, wanted: string, options: { out?: string }) => {
      const api = context.api();
      const artifact = pick(await api.call<ArtifactEntry[]>('GET', artifactsPath(id)), wanted, id);
      const destination = options.out ?? safeFileName(artifact.name);
      const partial = `${destination}.partial`;
      const { body, headers } = await api.stream(`${artifactsPath(id)}/${artifact.id}`);
      const hash = createHash('sha256');
      let bytes = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      try {
        await pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), meter, createWriteStream(partial, { mode: 0o600 }));
        const sha256 = hash.digest('hex');
        const announced = headers.get('x-checksum-sha256');
        if (sha256 !== artifact.sha256 || (announced && announced !== sha256)) {
          throw new JarvisProblem(`the download of ${artifact.name} is corrupt: its SHA-256 is ${sha256}, the run recorded ${artifact.sha256}`, 'conflict');
        }
        await rename(partial, destination);
        console.log(`Downloaded ${artifact.name} to ${destination} (${bytes} bytes, sha256 ${sha256} verified)`);
      } finally {
        await rm(partial, { force: true });
      }
    });
}
