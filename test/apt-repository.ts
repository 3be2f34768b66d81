// Real Debian packages and flat apt repositories for the patching tests: each
// package built by dpkg-deb, each repository with the Packages index and a
// Release file naming its archive the way Debian's own do (a security
// archive is labelled Debian-Security, suite bookworm-security), so apt on a
// test host plans, upgrades and downgrades exactly as on a real one.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface TestPackage {
  name: string;
  version: string;
  /** A maintainer script run after the package is unpacked (sh); a non-zero exit fails its configuration. */
  postinst?: string;
}

export interface TestArchive {
  /** The folder name under the repository root. */
  folder: string;
  label: string;
  suite: string;
  packages: TestPackage[];
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function buildPackage(into: string, pkg: TestPackage): Promise<string> {
  const root = path.join(into, `.build-${pkg.name}-${pkg.version}`);
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(root, 'usr/share/jarvis-demo'), { recursive: true });
  writeFileSync(path.join(root, 'usr/share/jarvis-demo', pkg.name), `${pkg.version}\n`);
  writeFileSync(
    path.join(root, 'DEBIAN/control'),
    [
      `Package: ${pkg.name}`,
      `Version: ${pkg.version}`,
      'Architecture: all',
      'Maintainer: Jarvis Tests <tests@example.org>',
      'Section: misc',
      'Priority: optional',
      `Description: ${pkg.name} for the patching tests`,
      '',
    ].join('\n'),
  );
  if (pkg.postinst) {
    writeFileSync(path.join(root, 'DEBIAN/postinst'), `#!/bin/sh\nset -e\n${pkg.postinst}\n`);
    chmodSync(path.join(root, 'DEBIAN/postinst'), 0o755);
  }
  const deb = path.join(into, `${pkg.name}_${pkg.version}_all.deb`);
  await execFileAsync('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
  return deb;
}

/** Builds the archives under `root` (one folder each); answers the folder to copy to the hosts. */
export async function buildAptRepository(root: string, archives: TestArchive[]): Promise<string> {
  for (const archive of archives) {
    const folder = path.join(root, archive.folder);
    mkdirSync(folder, { recursive: true });
    const stanzas: string[] = [];
    for (const pkg of archive.packages) {
      const deb = await buildPackage(folder, pkg);
      const { stdout } = await execFileAsync('dpkg-deb', ['--field', deb]);
      stanzas.push(`${stdout.trim()}\nFilename: ./${path.basename(deb)}\nSize: ${statSync(deb).size}\nSHA256: ${sha256(deb)}\n`);
    }
    const packages = path.join(folder, 'Packages');
    writeFileSync(packages, `${stanzas.join('\n')}`);
    writeFileSync(
      path.join(folder, 'Release'),
      [
        'Origin: Debian',
        `Label: ${archive.label}`,
        `Suite: ${archive.suite}`,
        `Codename: ${archive.suite}`,
        `Date: ${new Date().toUTCString()}`,
        'Architectures: all amd64',
        'SHA256:',
        ` ${sha256(packages)} ${statSync(packages).size} Packages`,
        '',
      ].join('\n'),
    );
  }
  return root;
}
