import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SerialDebouncer, type Timers } from '../../src/cli/dev/debounce.js';
import { forDev } from '../../src/cli/dev/dev-session.js';
import { devIgnore, watchTree } from '../../src/cli/dev/watcher.js';
import type { LoadedService } from '../../src/service/load-service.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Timers that fire only when the test says so. */
class FakeTimers implements Timers {
  now = 0;
  #next = 1;
  readonly #due = new Map<number, { at: number; run: () => void }>();

  set(run: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#due.set(id, { at: this.now + ms, run });
    return id;
  }

  clear(handle: unknown): void {
    this.#due.delete(handle as number);
  }

  get pending(): number {
    return this.#due.size;
  }

  /** Moves the clock on, firing what falls due, in order. */
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.#due].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.now) continue;
      this.#due.delete(id);
      t.run();
    }
  }
}

/** A task whose runs finish when the test releases them. */
function gatedTask() {
  const releases: (() => void)[] = [];
  let runs = 0;
  return {
    task: () => {
      runs += 1;
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    get runs() {
      return runs;
    },
    release: () => releases.shift()?.(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('SerialDebouncer', () => {
  test('a burst of triggers runs once, after the quiet period', async () => {
    const timers = new FakeTimers();
    const gate = gatedTask();
    const d = new SerialDebouncer(gate.task, 75, timers);
    d.trigger();
    timers.advance(50);
    d.trigger();
    timers.advance(50);
    d.trigger();
    assert.equal(gate.runs, 0, 'each trigger restarts the quiet period');
    timers.advance(75);
    assert.equal(gate.runs, 1);
    gate.release();
    await tick();
    assert.equal(d.busy, false);
  });

  test('triggers during a run fold into one more run after it', async () => {
    const timers = new FakeTimers();
    const gate = gatedTask();
    const d = new SerialDebouncer(gate.task, 75, timers);
    d.trigger();
    timers.advance(75);
    assert.equal(gate.runs, 1);
    d.trigger();
    d.trigger();
    timers.advance(500);
    assert.equal(gate.runs, 1, 'never two at a time');
    assert.equal(timers.pending, 0);
    gate.release();
    await tick();
    assert.equal(timers.pending, 1, 'one follow-up scheduled');
    timers.advance(75);
    assert.equal(gate.runs, 2);
    gate.release();
    await tick();
    assert.equal(d.busy, false);
  });

  test('runNow folds in a waiting trigger; a failing run does not stop later ones', async () => {
    const timers = new FakeTimers();
    let runs = 0;
    const d = new SerialDebouncer(
      async () => {
        runs += 1;
        if (runs === 1) throw new Error('first fails');
      },
      75,
      timers,
    );
    d.trigger();
    await d.runNow();
    assert.equal(runs, 1);
    assert.equal(timers.pending, 0);
    d.trigger();
    timers.advance(75);
    await tick();
    assert.equal(runs, 2);
  });

  test('stop waits for the run in progress and runs nothing after it', async () => {
    const timers = new FakeTimers();
    const gate = gatedTask();
    const d = new SerialDebouncer(gate.task, 75, timers);
    d.trigger();
    timers.advance(75);
    d.trigger();
    let stopped = false;
    const stopping = d.stop().then(() => {
      stopped = true;
    });
    await tick();
    assert.equal(stopped, false);
    gate.release();
    await stopping;
    d.trigger();
    timers.advance(1000);
    assert.equal(gate.runs, 1);
  });
});

describe('devIgnore', () => {
  test('skips state, caches, version control and editor noise', () => {
    const ignore = devIgnore(['data/nimbus']);
    for (const path of [
      '.serverless',
      '.serverless/hello.zip',
      '.nimbus/nimbus.db-wal',
      'data/nimbus/blobs/ab',
      '.git',
      'sub/.git/index',
      'node_modules/.cache/esbuild/x',
      'handler.js~',
      '.#handler.js',
      'src/.handler.ts.swp',
      '4913',
    ]) {
      assert.equal(ignore(path), true, path);
    }
    for (const path of [
      'handler.js',
      'src/handler.ts',
      'serverless.yml',
      'node_modules/lib/index.js',
      '.env',
      'data/other.json',
      '.gitignore',
    ]) {
      assert.equal(ignore(path), false, path);
    }
  });
});

describe('forDev', () => {
  test('packages individually and keeps the state dirs out, last', () => {
    const loaded = {
      definition: {
        package: { patterns: ['!docs/**'], individually: false, excludeDevDependencies: true },
        functions: {
          a: { key: 'a', package: { patterns: ['!**', 'a.js'] } },
          b: { key: 'b' },
        },
      },
    } as unknown as LoadedService;
    const dev = forDev(loaded, ['.nimbus', 'state']);
    assert.equal(dev.definition.package.individually, true);
    assert.deepEqual(dev.definition.package.patterns, ['!docs/**', '!.nimbus/**', '!state/**']);
    assert.deepEqual(dev.definition.functions.a!.package!.patterns, [
      '!**',
      'a.js',
      '!.nimbus/**',
      '!state/**',
    ]);
    assert.equal(dev.definition.functions.b!.package, undefined);
    assert.equal(loaded.definition.package.individually, false, 'the loaded service is untouched');
  });
});

describe('watchTree', () => {
  test('reports writes at any depth, new directories included; not ignored ones', async () => {
    const tmp = await makeTempDir();
    try {
      await mkdir(join(tmp.dir, 'src', 'deep'), { recursive: true });
      await mkdir(join(tmp.dir, '.nimbus'));
      const seen: string[] = [];
      const watcher = watchTree({
        root: tmp.dir,
        ignore: devIgnore(),
        onChange: (rel) => seen.push(rel),
      });
      try {
        const waitFor = async (rel: string) => {
          const deadline = Date.now() + 3000;
          while (!seen.includes(rel)) {
            if (Date.now() > deadline) throw new Error(`no change reported for ${rel}: ${seen}`);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        };
        await writeFile(join(tmp.dir, '.nimbus', 'nimbus.db'), 'x');
        await writeFile(join(tmp.dir, 'src', 'deep', 'a.js'), 'a');
        await waitFor('src/deep/a.js');
        await mkdir(join(tmp.dir, 'lib'));
        await waitFor('lib');
        await writeFile(join(tmp.dir, 'lib', 'b.js'), 'b');
        await waitFor('lib/b.js');
        await rm(join(tmp.dir, 'src'), { recursive: true });
        await waitFor('src');
        assert.ok(!seen.some((rel) => rel.startsWith('.nimbus')), seen.join(', '));
      } finally {
        watcher.close();
      }
    } finally {
      await tmp.cleanup();
    }
  });
});
