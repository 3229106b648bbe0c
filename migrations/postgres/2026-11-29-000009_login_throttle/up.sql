-- Failed logins are also counted per account and client address together, so that a guesser is
-- throttled without locking the account's owner out from elsewhere.
ALTER TABLE login_failures DROP CONSTRAINT login_failures_scope_check;
ALTER TABLE login_failures ADD CONSTRAINT login_failures_scope_check
    CHECK (scope IN ('account', 'address', 'account_address'));
