import { useId, type ReactElement } from 'react';

/** The "People" box of the room dialogs: usernames, with how to write them. */
export function PeopleField(props: { hint: string; autoFocus?: boolean }): ReactElement {
  const hintId = useId();
  return (
    <>
      <label className="field">
        <span className="field-label">People</span>
        <input
          name="people"
          autoComplete="off"
          aria-describedby={hintId}
          placeholder="alice, bob"
          autoFocus={props.autoFocus}
        />
      </label>
      <p id={hintId} className="field-hint">
        {props.hint}
      </p>
    </>
  );
}

/** A room dialog's error line and its Cancel / submit buttons. */
export function DialogFooter(props: {
  error: string;
  busy: boolean;
  submit: string;
  onCancel: () => void;
}): ReactElement {
  return (
    <>
      <p className="form-error" role="alert">
        {props.error}
      </p>
      <div className="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={props.busy}>
          {props.submit}
        </button>
      </div>
    </>
  );
}
