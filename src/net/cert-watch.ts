/**
 * Calls back when any of some files changes, debounced: certificate renewals (certbot,
 * acme.sh) replace the cert and the key one after the other, often by rename, so the
 * directories are watched (a watch on the old file would see nothing after a rename) and
 * one callback follows a burst of changes. The watches never keep the process alive.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

export function watchFiles(paths: string[], onChange: () => void, onError: (err: Error) => void, debounceMs = 500): FileWatch {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const names = byDir.get(dirname(p)) ?? new Set<string>();
    names.add(basename(p));
    byDir.set(dirname(p), names);
  }
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name.toString())) fire();
      });
      w.on('error', onError);
      watchers.push(w);
    } catch (err) {
      onError(err as Error); // e.g. the directory is gone: SIGHUP still reloads
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
