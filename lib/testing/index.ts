export {
  createTestMailroom,
  type TestDeliverOptions,
  type TestDelivery,
  type TestMailroom,
} from './test-mailroom.ts';
