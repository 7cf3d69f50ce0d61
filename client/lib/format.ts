// Prices are USD (CONTRACT §6), written in the visitor's locale.
export function formatPrice(price: number, locale = 'en-US'): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency: 'USD' }).format(price);
}
