import { redirect } from 'next/navigation';
import { TicketForm } from '@/components/TicketForm';
import { currentUser } from '@/lib/server-api';

export default async function NewTicketPage() {
  if (!(await currentUser())) redirect('/auth/signin');
  return <TicketForm />;
}
