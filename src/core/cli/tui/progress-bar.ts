import React from 'react';
import { Text } from 'ink';
import { tone } from './tone.ts';

const h = React.createElement;

export interface ProgressBarProps {
  /** 0..100, or null when KTRDR has not reported progress yet. */
  percentage: number | null;
  /** Total width in columns, label included. */
  width: number;
  color: boolean;
}

/** `[███████████░░░░░░░] 67%`: the bar shrinks with the terminal, the percentage always shows. */
export function ProgressBar({ percentage, width, color }: ProgressBarProps) {
  const label = percentage === null ? '  ?%' : `${String(Math.round(percentage)).padStart(3)}%`;
  const inner = Math.max(4, width - label.length - 3);
  const filled = percentage === null ? 0 : Math.round((Math.min(100, Math.max(0, percentage)) / 100) * inner);
  return h(
    Text,
    { wrap: 'truncate-end' },
    '[',
    h(Text, { color: tone(color, 'green') }, '█'.repeat(filled)),
    h(Text, { color: tone(color, 'gray') }, '░'.repeat(inner - filled)),
    `] ${label}`,
  );
}
