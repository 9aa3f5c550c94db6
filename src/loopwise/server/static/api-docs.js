// Swagger UI over the server's own OpenAPI document (a file, not inline: the CSP forbids inline scripts).
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
