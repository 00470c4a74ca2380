/** A colour for Ink's `color` prop, or none when colours are off (not a TTY, NO_COLOR, TERM=dumb). */
export function tone(enabled: boolean, color: string): string | undefined {
  return enabled ? color : undefined;
}
