/** Delivery settings from the configuration, so every caller of `deliver()` (CLI, SMTP, LMTP) agrees. */
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import type { Store } from '../store/types.js';
import type { DeliveryContext } from './delivery.js';

export function deliveryContext(store: Store, config: Config): DeliveryContext {
  return {
    store,
    // The spool sits in the data directory so a large message is never copied across file systems.
    ingest: { spoolDir: join(config.data, 'tmp'), largePartThreshold: config.delivery.large_part_threshold },
  };
}
