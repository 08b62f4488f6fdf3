import { expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A write that records each batch and finishes when the test says so. */
function writer(opts: { maxInFlight: number; maxBatch: number; refuse?: (n: number) => boolean }) {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const commit = new GroupCommit<number, string>({
    ...opts,
    write: (items) =>
      new Promise((resolve, reject) => {
        batches.push(items);
        pending.push(() =>
          items.some((n) => opts.refuse?.(n))
            ? reject(new Error(`refused ${items.join(',')}`))
            : resolve(items.map(String)),
        );
      }),
  });
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { commit, batches, finishAll };
}

it('an item that finds a free slot goes alone; items that come while writes run go together', async () => {
  const { commit, batches, finishAll } = writer({ maxInFlight: 2, maxBatch: 3 });
  const results = Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => commit.submit(n)));
  await finishAll();
  expect(await results).toEqual(['1', '2', '3', '4', '5', '6', '7']);
  expect(batches).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
});

it('a batch the write refuses is written again item by item: only the bad item fails', async () => {
  const { commit, batches, finishAll } = writer({ maxInFlight: 1, maxBatch: 10, refuse: (n) => n === 3 });
  const first = commit.submit(1);
  const rest = [2, 3, 4].map((n) => commit.submit(n));
  const settled = Promise.allSettled([first, ...rest]);
  await finishAll();
  expect((await settled).map((r) => (r.status === 'fulfilled' ? r.value : 'failed'))).toEqual([
    '1',
    '2',
    'failed',
    '4',
  ]);
  expect(batches).toEqual([[1], [2, 3, 4], [2], [3], [4]]);
});
