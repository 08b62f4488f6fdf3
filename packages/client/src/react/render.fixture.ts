import { act, type ReactElement } from 'react';
import { createRoot } from 'react-dom/client';
import type { Document as HappyDocument } from 'happy-dom';

// No DOM lib in the tsconfig: the test environment's document, typed as happy-dom's.
const { document } = globalThis as unknown as { document: HappyDocument };

/** Test helper: renders into a fresh container (happy-dom); unmounts on dispose. */
export async function render(element: ReactElement) {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const root = createRoot(container);
  await act(async () => root.render(element));
  return {
    text: () => container.textContent,
    rerender: (next: ReactElement) => act(async () => root.render(next)),
    [Symbol.asyncDispose]: async () => {
      await act(async () => root.unmount());
      container.remove();
    },
  };
}
