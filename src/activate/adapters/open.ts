import type { DestinationAdapter, DestinationKind } from '../adapter.js';
import { ActivationError } from '../activation-error.js';
import { workspaceDir, type Destination, type OpenOptions } from '../destinations.js';
import { openFileAdapter } from './file.js';
import { openNatsAdapter } from './nats.js';
import { openWebhookAdapter } from './webhook.js';

/** Whether a kind's adapter writes full member exports (scheduled segment syncs need it). */
export function exportsMembers(kind: DestinationKind): boolean {
  return kind === 'file';
}

/**
 * The adapter of a destination. `secret` is the webhook signing secret in the
 * clear; a webhook without one is a broken row, refused rather than sent unsigned.
 */
export function openAdapter(destination: Destination, secret: string | null, options: OpenOptions): DestinationAdapter {
  switch (destination.kind) {
    case 'webhook':
      if (!secret) throw new ActivationError('conflict', 'id', `webhook destination ${destination.name} has no signing secret: rotate it to make one`);
      return openWebhookAdapter(destination.config, secret);
    case 'file':
      return openFileAdapter(destination.config, workspaceDir(options.activationDir, destination.workspaceId));
    case 'nats':
      return openNatsAdapter(destination.config);
  }
}
