import type { Document as HappyDocument } from 'happy-dom';
import { createApp, type Component } from 'vue';

// Test helper (`.fixture.ts`: kept out of the build).

const { document } = globalThis as unknown as { document: HappyDocument };

/** Mounts `root` into a fresh container; unmounts on dispose. */
export function mount(root: Component, setup: (app: ReturnType<typeof createApp>) => void = () => undefined) {
  const container = document.createElement('div');
  document.body.appendChild(container);
  const app = createApp(root);
  setup(app);
  app.mount(container);
  return {
    text: () => container.textContent,
    [Symbol.dispose]: () => {
      app.unmount();
      container.remove();
    },
  };
}
