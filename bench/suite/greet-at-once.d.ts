import type { SMTPServer } from 'smtp-server';

/** See greet-at-once.js. */
export function greetAtOnce(smtp: SMTPServer): void;
