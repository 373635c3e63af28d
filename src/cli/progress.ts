/**
 * A progress bar on stderr, drawn only when stderr is a terminal: scripts and tests that
 * read stderr see nothing but errors. Redrawn at most every 100 ms.
 */
export interface ProgressBar {
  update: (done: number, total: number) => void;
  done: () => void;
}

const WIDTH = 30;

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let last = 0;
  let drawn = false;
  const draw = (done: number, total: number) => {
    const part = total > 0 ? Math.min(done / total, 1) : 1;
    const filled = Math.round(part * WIDTH);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${done}/${total}`);
    drawn = true;
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      draw(done, total);
    },
    done() {
      if (drawn) stream.write('\n');
    },
  };
}
