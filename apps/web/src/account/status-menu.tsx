import type { PresenceStatus } from '@streampod/client';
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import { PresenceDot } from '../ui/presence-dot';

export type SettableStatus = Exclude<PresenceStatus, 'offline'>;

const choices: readonly { status: SettableStatus; label: string }[] = [
  { status: 'online', label: 'Online' },
  { status: 'away', label: 'Away' },
  { status: 'busy', label: 'Busy' },
];

/**
 * The "Status" menu button (WAI-ARIA menu button pattern): Enter, Space or ↓ opens it on the
 * current status, ↑/↓/Home/End move, Enter or Space chooses, Escape closes and returns focus.
 */
export function StatusMenu(props: {
  current: PresenceStatus | undefined;
  onChoose: (status: SettableStatus) => void;
}): ReactElement {
  const [open, setOpen] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);
  const menuId = useId();

  const openAt = (index: number) => {
    setFocusIndex(index);
    setOpen(true);
  };
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) buttonRef.current?.focus();
  };
  const choose = (status: SettableStatus) => {
    close(true);
    props.onChoose(status);
  };

  // Focus follows the active item while open.
  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]')[focusIndex]?.focus();
  }, [open, focusIndex]);

  // A click anywhere else closes it.
  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) close(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  const currentIndex = Math.max(
    0,
    choices.findIndex((choice) => choice.status === props.current),
  );

  const onButtonKey = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      openAt(currentIndex);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      openAt(choices.length - 1);
    }
  };

  const onMenuKey = (event: KeyboardEvent) => {
    const last = choices.length - 1;
    const moves: Record<string, number> = {
      ArrowDown: focusIndex === last ? 0 : focusIndex + 1,
      ArrowUp: focusIndex === 0 ? last : focusIndex - 1,
      Home: 0,
      End: last,
    };
    const next = moves[event.key];
    if (next !== undefined) {
      event.preventDefault();
      setFocusIndex(next);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close(true);
    } else if (event.key === 'Tab') {
      close(false);
    }
  };

  return (
    <div className="status-menu">
      <button
        ref={buttonRef}
        type="button"
        className="ghost-on-dark"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => (open ? close(false) : openAt(currentIndex))}
        onKeyDown={onButtonKey}
      >
        Status
        <span className="caret" aria-hidden="true" />
      </button>
      {open && (
        <ul ref={menuRef} id={menuId} role="menu" aria-label="Status" className="menu" onKeyDown={onMenuKey}>
          {choices.map((choice, index) => (
            <li
              key={choice.status}
              role="menuitem"
              tabIndex={index === focusIndex ? 0 : -1}
              aria-current={choice.status === props.current ? 'true' : undefined}
              className="menu-item"
              onClick={() => choose(choice.status)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' || event.key === ' ') {
                  event.preventDefault();
                  choose(choice.status);
                }
              }}
            >
              <PresenceDot status={choice.status} />
              {choice.label}
              {choice.status === props.current && (
                <span className="check" aria-hidden="true">
                  ✓
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
