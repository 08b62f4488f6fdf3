import { useEffect, useId, useRef, type ReactElement, type ReactNode } from 'react';

/**
 * A modal dialog on the native `<dialog>`: the browser traps focus, closes on Escape and
 * puts focus back where it was.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode }): ReactElement {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (!dialog.open) dialog.showModal();
    return () => dialog.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault(); // React owns whether it is shown
        props.onClose();
      }}
    >
      <h2 id={titleId} className="dialog-title">
        {props.title}
      </h2>
      {props.children}
    </dialog>
  );
}
