// A stand-in for Stripe.js (https://js.stripe.com/v3/), served by the browser
// tests at Stripe's address so the card-input path runs with no network. It
// offers the part of the API StripeCard uses: Stripe(key).elements()
// .create('card').mount(el), and createToken(card), which answers the token
// stripe-mock accepts for Stripe's test card and a decline for any other.
(function () {
  window.Stripe = function (key) {
    if (!/^pk_test_/.test(key)) throw new Error('stand-in Stripe.js: a test publishable key is expected');
    var input;
    var card = {
      mount: function (el) {
        var label = document.createElement('label');
        label.textContent = 'Card number';
        label.htmlFor = 'standin-card-number';
        input = document.createElement('input');
        input.id = 'standin-card-number';
        input.inputMode = 'numeric';
        input.autocomplete = 'cc-number';
        el.appendChild(label);
        el.appendChild(input);
      },
      destroy: function () {},
    };
    return {
      elements: function () {
        return { create: function () { return card; } };
      },
      createToken: function () {
        var digits = (input && input.value || '').replace(/\s+/g, '');
        if (digits === '4242424242424242') return Promise.resolve({ token: { id: 'tok_visa' } });
        return Promise.resolve({ error: { message: 'Your card was declined.' } });
      },
    };
  };
})();
