// The same event-store suite on the embedded database (PGlite), minus the tests that need several connections.
import { eventStoreSuite } from './suite.js';

eventStoreSuite('pglite');
