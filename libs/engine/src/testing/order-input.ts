/** The sample order saga's input the engine's scenario tests start from. */
export const orderInput = {
  orderId: 'o-1',
  customerId: 'c-1',
  sku: 'sku-1',
  quantity: 2,
  amount: 50,
  card: '4111111111111111',
};
