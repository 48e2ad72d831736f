// Starts Swagger UI on the served contract. A file of its own, not an inline script, so that the page runs under a
// Content-Security-Policy without 'unsafe-inline' for scripts.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
    // no badge from validator.swagger.io: it would send the contract's URL to a third party
    validatorUrl: null,
    // The contract's server URL is absolute (http://localhost:3001/api/v1); "Try it out" calls this node instead.
    requestInterceptor: function (request) {
      request.url = request.url.replace(/^https?:\/\/localhost:3001(?=\/api\/)/, window.location.origin);
      return request;
    }
  });
});
