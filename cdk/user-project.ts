import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import type { PropsProblems } from './props-error.ts';

/** The lock files the processor can be bundled against, as `NodejsFunction` knows them. */
export const LOCK_FILES: readonly string[] = [
  'package-lock.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'bun.lock',
];

/** Where the user's code is: the config, the lock file and the folder bundling runs in. */
export interface UserProject {
  /** The Mailroom config (absolute). */
  readonly configFile: string;
  /** The lock file (absolute), or undefined when none was found (a problem was recorded). */
  readonly depsLockFilePath: string | undefined;
  /** The project's root folder (absolute): the lock file's folder unless given. */
  readonly projectRoot: string;
}

export interface UserProjectOptions {
  readonly configFile?: string;
  readonly projectRoot?: string;
  readonly depsLockFilePath?: string;
}

/**
 * Finds the user's project the way `NodejsFunction` does: the lock file is `depsLockFilePath`, else the
 * nearest one walking up from `projectRoot` (when given) or from the config file's folder; the project
 * root is `projectRoot`, else the lock file's folder. Relative paths are taken from the current directory
 * (where `cdk synth` runs). Problems go to `problems`, so that every one is reported at once.
 */
export function resolveUserProject(options: UserProjectOptions, problems: PropsProblems): UserProject {
  const configFile = resolve(options.configFile ?? 'mailroom.config.ts');
  if (!isFile(configFile)) {
    problems.add(
      options.configFile === undefined
        ? `configFile is not set and ${configFile} does not exist (give the path of your mailroom.config.ts)`
        : `configFile ${configFile} does not exist`,
    );
  }
  const givenRoot = options.projectRoot === undefined ? undefined : resolve(options.projectRoot);
  if (givenRoot !== undefined && !isDirectory(givenRoot)) {
    problems.add(`projectRoot ${givenRoot} is not a folder`);
  }
  let depsLockFilePath: string | undefined;
  if (options.depsLockFilePath !== undefined) {
    depsLockFilePath = resolve(options.depsLockFilePath);
    if (!isFile(depsLockFilePath)) problems.add(`depsLockFilePath ${depsLockFilePath} does not exist`);
    else if (!LOCK_FILES.includes(basename(depsLockFilePath))) {
      problems.add(`depsLockFilePath must name one of ${LOCK_FILES.join(', ')}, got ${depsLockFilePath}`);
    }
  } else {
    const start = givenRoot ?? dirname(configFile);
    depsLockFilePath = findLockFile(start);
    if (depsLockFilePath === undefined) {
      problems.add(
        `no lock file (${LOCK_FILES.join(', ')}) in ${start} or a folder above it: install your project's ` +
          'dependencies (npm install) or give depsLockFilePath',
      );
    }
  }
  const projectRoot = givenRoot ?? (depsLockFilePath ? dirname(depsLockFilePath) : dirname(configFile));
  if (depsLockFilePath && !isInside(projectRoot, depsLockFilePath)) {
    problems.add(`depsLockFilePath ${depsLockFilePath} must be inside projectRoot ${projectRoot}`);
  }
  return { configFile, depsLockFilePath, projectRoot };
}

/** The nearest lock file in `start` or a folder above it. */
export function findLockFile(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    for (const name of LOCK_FILES) {
      const candidate = resolve(dir, name);
      if (isFile(candidate)) return candidate;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Where `NodejsFunction` bundles the processor: its `projectRoot` and `depsLockFilePath`. */
export interface BundlingRoot {
  readonly projectRoot: string;
  readonly depsLockFilePath: string;
}

/**
 * Where the processor (Mailroom's `entry`) is bundled from. `NodejsFunction` runs esbuild in its
 * projectRoot through the package manager of the lock file (`npx --no-install esbuild`: esbuild, a
 * dependency of Mailroom, is in your node_modules) and wants the entry inside it: that is your project,
 * where npm installs Mailroom. When Mailroom lives outside your project (running from its own repository,
 * or a linked checkout), bundling runs in Mailroom's package root with its lock file instead; your config
 * and its packages are still resolved from your project (esbuild resolves each import from its file).
 */
export function bundlingRoot(
  project: UserProject,
  entry: string,
  packageRoot: string,
  problems: PropsProblems,
): BundlingRoot | undefined {
  if (project.depsLockFilePath && isInside(project.projectRoot, entry)) {
    return { projectRoot: project.projectRoot, depsLockFilePath: project.depsLockFilePath };
  }
  const ownLock = LOCK_FILES.map((name) => resolve(packageRoot, name)).find(isFile);
  if (ownLock && isInside(packageRoot, entry)) return { projectRoot: packageRoot, depsLockFilePath: ownLock };
  if (project.depsLockFilePath) {
    problems.add(
      `Mailroom (${packageRoot}) is outside projectRoot ${project.projectRoot} and has no lock file of its own: ` +
        'give a projectRoot (and depsLockFilePath) holding both',
    );
  }
  return undefined;
}

export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
