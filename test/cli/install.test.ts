import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { writeDeterministicZip } from '../../src/packaging/deterministic-zip.js';
import { startCliPlatform } from '../helpers/cli-platform.js';
import { runCli } from '../helpers/run-cli.js';

const yml =
  'service: upstream\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  hello:\n    handler: handler.hello\n';
const handler = "exports.hello = async () => ({ from: 'template' });\n";

async function tarGz(entries: { name: string; content?: string; type?: 'symlink' }[]) {
  const tar = pack();
  for (const e of entries) {
    if (e.type === 'symlink') tar.entry({ name: e.name, type: 'symlink', linkname: '/etc/passwd' });
    else tar.entry({ name: e.name }, e.content ?? '');
  }
  tar.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of tar) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('install -u and create --template-path', () => {
  let root: string;
  let env: Record<string, string>;
  let files: Server;
  let filesUrl: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    const started = await startCliPlatform();
    ({ root, env } = started);
    // A local web server standing in for an archive URL (the network here reaches registries only).
    files = createServer(async (req, res) => {
      try {
        const body = await readFile(join(root, 'served', req.url!.slice(1)));
        res.writeHead(200).end(body);
      } catch {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    await mkdir(join(root, 'served'));

    const repo = join(root, 'repo', 'upstream');
    await mkdir(join(repo, 'node_modules', 'x'), { recursive: true });
    await mkdir(join(repo, '.git'));
    await writeFile(join(repo, 'serverless.yml'), yml);
    await writeFile(join(repo, 'handler.js'), handler);
    await writeFile(join(repo, 'node_modules', 'x', 'index.js'), '');
    await writeFile(join(repo, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    cleanup = async () => {
      files.close();
      await started.close();
    };
  });
  after(() => cleanup());

  test('from a local repository folder, renamed, then deployed', async () => {
    const res = await runCli(['install', '-u', join(root, 'repo', 'upstream'), '-n', 'mine'], {
      cwd: root,
      env,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /✔ Project successfully installed in "mine"/);
    const dir = join(root, 'mine');
    assert.deepEqual((await readdir(dir)).sort(), ['handler.js', 'serverless.yml']);
    assert.match(await readFile(join(dir, 'serverless.yml'), 'utf8'), /^service: mine$/m);
    const deployed = await runCli(['deploy'], { cwd: dir, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /hello: mine-dev-hello \(version 1\)/);

    const again = await runCli(['install', '-u', join(root, 'repo', 'upstream'), '-n', 'mine'], {
      cwd: root,
      env,
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /mine already exists/);
  });

  test('from .zip and .tar.gz files and URLs, one top folder unwrapped', async () => {
    await writeDeterministicZip(
      [
        { path: 'upstream-main/serverless.yml', content: Buffer.from(yml), executable: false },
        { path: 'upstream-main/handler.js', content: Buffer.from(handler), executable: false },
      ],
      join(root, 'served', 'svc.zip'),
    );
    await writeFile(
      join(root, 'served', 'svc.tar.gz'),
      await tarGz([
        { name: 'upstream/serverless.yml', content: yml },
        { name: 'upstream/handler.js', content: handler },
      ]),
    );
    const cases: [string, string][] = [
      [join(root, 'served', 'svc.zip'), 'from-zip'],
      [`${filesUrl}/svc.zip`, 'from-zip-url'],
      [join(root, 'served', 'svc.tar.gz'), 'from-tgz'],
      [`${filesUrl}/svc.tar.gz`, 'from-tgz-url'],
      [pathToFileURL(join(root, 'served', 'svc.tar.gz')).href, 'from-file-url'],
    ];
    for (const [source, name] of cases) {
      const res = await runCli(['install', '-u', source, '-n', name], { cwd: root, env });
      assert.equal(res.code, 0, `${source}: ${res.stderr}`);
      assert.deepEqual((await readdir(join(root, name))).sort(), ['handler.js', 'serverless.yml']);
      assert.match(
        await readFile(join(root, name, 'serverless.yml'), 'utf8'),
        new RegExp(`^service: ${name}$`, 'm'),
      );
    }
    // Without -n: the directory is named after the archive and the service keeps its name.
    const plain = await runCli(['install', '-u', `${filesUrl}/svc.tar.gz`], {
      cwd: join(root, 'home'),
      env,
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      await readFile(join(root, 'home', 'svc', 'serverless.yml'), 'utf8'),
      /^service: upstream$/m,
    );
  });

  test('from a git URL when git is installed', async (t) => {
    try {
      execFileSync('git', ['--version']);
    } catch {
      t.skip('git is not installed');
      return;
    }
    const repo = join(root, 'git-repo');
    await mkdir(repo);
    await writeFile(join(repo, 'serverless.yml'), yml);
    await writeFile(join(repo, 'handler.js'), handler);
    const git = (...args: string[]) =>
      execFileSync('git', args, {
        cwd: repo,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@t',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@t',
        },
      });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'init');
    const res = await runCli(['install', '-u', pathToFileURL(repo).href, '-n', 'from-git'], {
      cwd: root,
      env,
    });
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual((await readdir(join(root, 'from-git'))).sort(), [
      'handler.js',
      'serverless.yml',
    ]);
  });

  test('hostile or wrong sources are refused and leave nothing behind', async () => {
    await writeFile(
      join(root, 'served', 'escape.tar.gz'),
      await tarGz([{ name: '../evil.js', content: 'x' }]),
    );
    await writeFile(
      join(root, 'served', 'link.tar.gz'),
      await tarGz([
        { name: 'serverless.yml', content: yml },
        { name: 'passwd', type: 'symlink' },
      ]),
    );
    await writeFile(
      join(root, 'served', 'noconfig.tar.gz'),
      await tarGz([{ name: 'readme.md', content: 'hi' }]),
    );
    await writeFile(join(root, 'served', 'garbage.zip'), 'not a zip');
    const cases: [string, RegExp][] = [
      [join(root, 'served', 'escape.tar.gz'), /unsafe entry name "\.\.\/evil\.js"/],
      [join(root, 'served', 'link.tar.gz'), /"passwd" is a symlink, not a file/],
      [join(root, 'served', 'noconfig.tar.gz'), /No serverless\.yml, .* found in /],
      [join(root, 'served', 'garbage.zip'), /Cannot unpack the archive/],
      [`${filesUrl}/missing.zip`, /Cannot download .*missing\.zip: HTTP 404/],
      [join(root, 'nowhere'), /does not exist/],
      [join(root, 'served'), /No serverless\.yml/],
    ];
    for (const [source, message] of cases) {
      const res = await runCli(['install', '-u', source, '-n', 'refused'], { cwd: root, env });
      assert.equal(res.code, 1, source);
      assert.match(res.stderr, message);
      assert.equal(await exists(join(root, 'refused')), false, `${source}: nothing created`);
    }
    assert.equal(await exists(join(root, 'evil.js')), false);
    const badName = await runCli(
      ['install', '-u', join(root, 'repo', 'upstream'), '-n', '9lives'],
      { cwd: root, env },
    );
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /Service name "9lives" is invalid/);
  });

  test('create --template-path copies a service folder and names it after the directory', async () => {
    const res = await runCli(
      ['create', '--template-path', join(root, 'repo', 'upstream'), '-p', 'created'],
      {
        cwd: root,
        env,
      },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /✔ Project successfully created in "created"/);
    assert.match(
      await readFile(join(root, 'created', 'serverless.yml'), 'utf8'),
      /^service: created$/m,
    );
    const deployed = await runCli(['deploy'], { cwd: join(root, 'created'), env });
    assert.equal(deployed.code, 0, deployed.stderr);
    const url = await runCli(['create', '--template-url', `${filesUrl}/svc.zip`, '-n', 'by-url'], {
      cwd: root,
      env,
    });
    assert.equal(url.code, 0, url.stderr);
    assert.match(
      await readFile(join(root, 'by-url', 'serverless.yml'), 'utf8'),
      /^service: by-url$/m,
    );
    const both = await runCli(['create', '-t', 'nodejs', '--template-path', 'x'], {
      cwd: root,
      env,
    });
    assert.equal(both.code, 1);
    assert.match(both.stderr, /Use one of --template, --template-path or --template-url/);
  });
});
