import type { Aggregate } from '../shared/decider.js';
import { streams } from '../shared/streams.js';
import type { DeviceCommand } from './commands.js';
import { decideDevice } from './decide.js';
import type { DeviceEvent } from './events.js';
import { evolveDevice, initialDeviceState, type DeviceState } from './state.js';

export const deviceAggregate: Aggregate<DeviceState, DeviceEvent, DeviceCommand> = {
  streamId: streams.device,
  initialState: initialDeviceState,
  evolve: evolveDevice,
  decide: decideDevice,
};
