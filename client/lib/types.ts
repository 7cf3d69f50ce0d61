export type ApiError = { message: string; field?: string };

export type User = { id: string; email: string; iat?: number; exp?: number };

export type Ticket = {
  id: string;
  title: string;
  price: number;
  userId: string;
  version: number;
  orderId?: string;
  sold?: true;
};

export type Order = {
  id: string;
  userId: string;
  status: 'created' | 'cancelled' | 'awaiting:payment' | 'complete';
  expiresAt: string;
  version: number;
  ticket: { id: string; title: string; price: number; version: number };
};
