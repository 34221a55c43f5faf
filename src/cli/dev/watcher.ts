import { type Dirent, type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join, sep } from 'node:path';

export interface TreeWatcherOptions {
  /** Absolute directory to watch, with everything below it. */
  root: string;
  /** True for a path (relative to root, `/`-separated) whose changes do not matter. */
  ignore: (relPath: string) => boolean;
  /** A file or directory under root changed (created, written, renamed or deleted). */
  onChange: (relPath: string) => void;
}

export interface TreeWatcher {
  /** How many directories (Linux) or trees (elsewhere) are watched; for --verbose and tests. */
  readonly size: number;
  close(): void;
}

/**
 * Watches a service directory. On macOS and Windows Node's recursive fs.watch is native and
 * cheap. On Linux, Node 20 emulates it by walking the tree and watching every file, ignored or
 * not (node_modules, the data dir) and by reporting every existing file as changed at start;
 * here each directory that is not ignored gets one inotify watch (which covers the files in it),
 * and directories created later are added as they appear.
 */
export function watchTree(opts: TreeWatcherOptions): TreeWatcher {
  if (process.platform !== 'linux') return watchNative(opts);
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const unwatchBelow = (rel: string) => {
    for (const [dir, watcher] of watchers) {
      if (dir === rel || dir.startsWith(`${rel}/`)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
  };

  const add = (rel: string) => {
    if (closed || watchers.has(rel)) return;
    const abs = rel === '' ? opts.root : join(opts.root, rel);
    let watcher: FSWatcher;
    try {
      watcher = watch(abs, { persistent: true }, (_event, name) => {
        const changed = name ? (rel === '' ? String(name) : `${rel}/${name}`) : rel;
        if (opts.ignore(changed)) return;
        if (changed !== rel) {
          // A new directory needs a watch of its own; a deleted one gives its watches up.
          if (isDirectory(join(opts.root, changed))) add(changed);
          else unwatchBelow(changed);
        }
        opts.onChange(changed);
      });
    } catch {
      // Gone (or unreadable) between readdir and watch: nothing there to watch.
      return;
    }
    watcher.on('error', () => {
      watcher.close();
      watchers.delete(rel);
    });
    watchers.set(rel, watcher);
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      // Symlinked directories are not followed: they may lead anywhere, even back up here.
      if (!entry.isDirectory()) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (!opts.ignore(child)) add(child);
    }
  };

  add('');
  return {
    get size() {
      return watchers.size;
    },
    close() {
      closed = true;
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

function watchNative(opts: TreeWatcherOptions): TreeWatcher {
  const watcher = watch(opts.root, { recursive: true, persistent: true }, (_event, name) => {
    const rel = name ? String(name).split(sep).join('/') : '';
    if (!opts.ignore(rel)) opts.onChange(rel);
  });
  watcher.on('error', () => watcher.close());
  return { size: 1, close: () => watcher.close() };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Editors' swap, backup and lock files: written on every keystroke or save, never deployed. */
const editorNoise = /(^|\/)(\.#[^/]*|[^/]*~|[^/]*\.sw[a-p]x?|4913|\.DS_Store)$/;

/**
 * What `dev` does not watch: its own output and state (`.serverless/`, the data dir), tool
 * caches, version control and editor noise. `extraDirs` are further directories relative to the
 * service dir (a --data-dir inside it).
 */
export function devIgnore(extraDirs: string[] = []): (relPath: string) => boolean {
  const dirs = ['.serverless', '.nimbus', ...extraDirs].map((d) => d.replace(/\/+$/, ''));
  return (rel) => {
    if (rel === '') return false;
    if (dirs.some((d) => rel === d || rel.startsWith(`${d}/`))) return true;
    if (/(^|\/)\.git(\/|$)/.test(rel)) return true;
    if (/(^|\/)node_modules\/\.cache(\/|$)/.test(rel)) return true;
    return editorNoise.test(rel);
  };
}
