/* The only header bindgen sees: the parts of httpd 2.4 and APR that mod_classify calls. */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_mpm.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_pools.h>

/* Macro values bindgen cannot evaluate, re-exposed as constants. */
const unsigned long cls_module_magic_cookie = MODULE_MAGIC_COOKIE;
const int cls_module_magic_number_major = MODULE_MAGIC_NUMBER_MAJOR;
const int cls_module_magic_number_minor = MODULE_MAGIC_NUMBER_MINOR;
