// The event-store suite on PostgreSQL (TEST_DATABASE_URL or DATABASE_URL, else a test container).
import { eventStoreSuite } from './suite.js';

eventStoreSuite('postgres');
