"""Single sign-on with OpenID Connect: portal login (code flow + PKCE), claims → tenant/role rules, provider
access tokens on the API. Design notes in each module; operator's guide in docs/sso.md."""
